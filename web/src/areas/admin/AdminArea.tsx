import type { AreaProps } from '../console/ConsoleArea.tsx';
import { AuditPage } from './AuditPage.tsx';
import { AuthoritiesPage } from './AuthoritiesPage.tsx';
import { TokensPage } from './TokensPage.tsx';
import { UsersPage } from './UsersPage.tsx';

/**
 * Administration and audit. Hash banks have no HTTP API (the `custos hashes`
 * commands manage them), so the console has no page for them.
 */
export default function AdminArea({ page }: AreaProps) {
  if (page === 'tokens') return <TokensPage />;
  if (page === 'users') return <UsersPage />;
  if (page === 'audit') return <AuditPage />;
  return <AuthoritiesPage />;
}
