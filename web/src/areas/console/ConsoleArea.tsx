import { Suspense, lazy, useEffect } from 'react';
import type { SessionUser } from '../../api/types.ts';
import { Loading } from '../../components/Messages.tsx';
import { Page } from '../../components/Page.tsx';
import { type NavItem, Shell } from '../../components/Shell.tsx';
import { SignIn } from '../../components/SignIn.tsx';
import { matchPath } from '../../lib/paths.ts';
import { CONSOLE_ROLES } from '../../lib/vocabulary.ts';
import { Link, navigate, useLocation } from '../../router.tsx';
import { useSession } from '../../session.tsx';

// Per area, so a moderator's first load carries no legal or admin code.
const ModerationArea = lazy(() => import('../moderation/ModerationArea.tsx'));
const LegalArea = lazy(() => import('../legal/LegalArea.tsx'));
const AdminArea = lazy(() => import('../admin/AdminArea.tsx'));

const MODERATION = ['moderator', 'admin', 'restricted_reviewer'];
const LEGAL = ['legal', 'legal_senior'];

export type ConsolePage =
  | 'queue'
  | 'case'
  | 'appeals'
  | 'statement'
  | 'orders'
  | 'order'
  | 'policy'
  | 'authorities'
  | 'tokens'
  | 'users'
  | 'webhooks'
  | 'hash-banks'
  | 'policy-history'
  | 'audit';

interface ConsoleRoute {
  pattern: string;
  page: ConsolePage;
  area: 'moderation' | 'legal' | 'admin';
  roles: readonly string[];
  nav?: string;
}

/** The console's pages, who may open them, and which appear in the navigation. */
const ROUTES: readonly ConsoleRoute[] = [
  { pattern: '/console/cases', page: 'queue', area: 'moderation', roles: MODERATION, nav: 'Queue' },
  { pattern: '/console/cases/:id', page: 'case', area: 'moderation', roles: MODERATION },
  // The statement route admits the console roles that GET /v1/decisions/:id/statement admits.
  {
    pattern: '/console/decisions/:id/statement',
    page: 'statement',
    area: 'moderation',
    roles: ['moderator', 'auditor'],
  },
  { pattern: '/console/appeals', page: 'appeals', area: 'moderation', roles: ['moderator'], nav: 'Appeals' },
  { pattern: '/console/legal', page: 'orders', area: 'legal', roles: LEGAL, nav: 'Orders' },
  { pattern: '/console/legal/:id', page: 'order', area: 'legal', roles: LEGAL },
  { pattern: '/console/policy', page: 'policy', area: 'legal', roles: LEGAL, nav: 'Disclosure policy' },
  { pattern: '/console/authorities', page: 'authorities', area: 'admin', roles: ['admin'], nav: 'Authorities' },
  { pattern: '/console/tokens', page: 'tokens', area: 'admin', roles: ['admin'], nav: 'Tokens' },
  { pattern: '/console/users', page: 'users', area: 'admin', roles: ['admin'], nav: 'Users' },
  { pattern: '/console/webhooks', page: 'webhooks', area: 'admin', roles: ['admin'], nav: 'Webhooks' },
  { pattern: '/console/hash-banks', page: 'hash-banks', area: 'admin', roles: ['admin'], nav: 'Hash banks' },
  {
    pattern: '/console/policy-history',
    page: 'policy-history',
    area: 'admin',
    roles: ['admin', 'auditor'],
    nav: 'Policy history',
  },
  { pattern: '/console/audit', page: 'audit', area: 'admin', roles: ['admin', 'auditor'], nav: 'Audit log' },
];

export interface AreaProps {
  page: ConsolePage;
  params: Record<string, string>;
  user: SessionUser;
}

function navFor(role: string): NavItem[] {
  return ROUTES.filter((r) => r.nav && r.roles.includes(role)).map((r) => ({ to: r.pattern, label: r.nav as string }));
}

/** `/console/*`: sign-in, then the pages of the signed-in person's role. */
export default function ConsoleArea() {
  const session = useSession();
  const { pathname } = useLocation();
  const user = session.status === 'signed-in' ? session.user : null;
  const nav = user ? navFor(user.role) : [];
  const first = nav[0]?.to;

  useEffect(() => {
    if (user && pathname === '/console' && first) navigate(first, { replace: true });
  }, [user, pathname, first]);

  if (session.status === 'unknown' || session.status === 'loading') {
    return (
      <Shell area="Console" home="/console">
        <Loading what="Checking your session" />
      </Shell>
    );
  }
  if (!user) {
    return (
      <Shell area="Console" home="/console">
        <SignIn
          title="Sign in to the console"
          lead="For moderators, the legal team, administrators and auditors."
          notice={session.status === 'signed-out' ? session.notice : undefined}
          unavailable={session.status === 'signed-out' && session.unavailable}
        />
      </Shell>
    );
  }
  if (!CONSOLE_ROLES.includes(user.role)) {
    return (
      <Shell area="Console" home="/console" user={user}>
        <Page title="Not a console role">
          {user.role === 'authority' ? (
            <p>
              Authorities file and follow their orders in the <Link to="/portal">authority portal</Link>.
            </p>
          ) : (
            <p>The {user.role.replace('_', ' ')} role works through the API; the console has no pages for it.</p>
          )}
        </Page>
      </Shell>
    );
  }

  let content = <Loading />;
  const route = ROUTES.map((r) => ({ r, params: matchPath(r.pattern, pathname) })).find((m) => m.params);
  if (route?.params && route.r.roles.includes(user.role)) {
    const props: AreaProps = { page: route.r.page, params: route.params, user };
    content =
      route.r.area === 'moderation' ? (
        <ModerationArea {...props} />
      ) : route.r.area === 'legal' ? (
        <LegalArea {...props} />
      ) : (
        <AdminArea {...props} />
      );
  } else if (route) {
    content = (
      <Page title="Not for your role">
        <p>Your role ({user.role.replace('_', ' ')}) may not open this page.</p>
      </Page>
    );
  } else if (pathname !== '/console') {
    content = (
      <Page title="Page not found">
        <p>The console has no page at this address.</p>
      </Page>
    );
  }
  return (
    <Shell area="Console" home="/console" nav={nav} user={user}>
      <Suspense fallback={<Loading />}>{content}</Suspense>
    </Shell>
  );
}
