import type { AreaProps } from '../console/ConsoleArea.tsx';
import { AuditPage } from './AuditPage.tsx';
import { AuthoritiesPage } from './AuthoritiesPage.tsx';
import { HashBanksPage } from './HashBanksPage.tsx';
import { PolicyHistoryPage } from './PolicyHistoryPage.tsx';
import { TokensPage } from './TokensPage.tsx';
import { UsersPage } from './UsersPage.tsx';
import { WebhooksPage } from './WebhooksPage.tsx';

/** Administration and audit: authorities, tokens, users, webhooks, hash banks, the policy history, the audit log. */
export default function AdminArea({ page }: AreaProps) {
  if (page === 'tokens') return <TokensPage />;
  if (page === 'users') return <UsersPage />;
  if (page === 'webhooks') return <WebhooksPage />;
  if (page === 'hash-banks') return <HashBanksPage />;
  if (page === 'policy-history') return <PolicyHistoryPage />;
  if (page === 'audit') return <AuditPage />;
  return <AuthoritiesPage />;
}
