import { Loading } from '../../components/Messages.tsx';
import { Page } from '../../components/Page.tsx';
import { Shell } from '../../components/Shell.tsx';
import { SignIn } from '../../components/SignIn.tsx';
import { matchPath } from '../../lib/paths.ts';
import { Link, useLocation } from '../../router.tsx';
import { useSession } from '../../session.tsx';
import { FileOrderPage } from './FileOrderPage.tsx';
import { OwnOrderPage } from './OwnOrderPage.tsx';
import { OwnOrdersPage } from './OwnOrdersPage.tsx';

const NAV = [
  { to: '/portal', label: 'Our orders' },
  { to: '/portal/new', label: 'File an order' },
];

/** `/portal/*`: an authority signs in, files orders, follows them and downloads packages. */
export default function PortalArea() {
  const session = useSession();
  const { pathname } = useLocation();
  if (session.status === 'unknown' || session.status === 'loading') {
    return (
      <Shell area="Authority portal" home="/portal">
        <Loading what="Checking your session" />
      </Shell>
    );
  }
  if (session.status === 'signed-out') {
    return (
      <Shell area="Authority portal" home="/portal">
        <SignIn
          title="Sign in to the authority portal"
          lead="For verified authorities: police, prosecutors and courts registered with this service."
          notice={session.notice}
          unavailable={session.unavailable}
        />
      </Shell>
    );
  }
  const user = session.user;
  if (user.role !== 'authority') {
    return (
      <Shell area="Authority portal" home="/portal" user={user}>
        <Page title="This portal is for authorities">
          <p>
            You are signed in as {user.role.replace('_', ' ')}. Staff work in the <Link to="/console">console</Link>.
          </p>
        </Page>
      </Shell>
    );
  }
  const order = matchPath('/portal/orders/:id', pathname);
  return (
    <Shell area="Authority portal" home="/portal" nav={NAV} user={user}>
      {pathname === '/portal' ? (
        <OwnOrdersPage />
      ) : pathname === '/portal/new' ? (
        <FileOrderPage />
      ) : order?.id ? (
        <OwnOrderPage id={order.id} />
      ) : (
        <Page title="Page not found">
          <p>
            The portal has no page here. See <Link to="/portal">your orders</Link>.
          </p>
        </Page>
      )}
    </Shell>
  );
}
