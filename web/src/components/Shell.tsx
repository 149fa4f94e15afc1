import type { ReactNode } from 'react';
import { Link, useLocation } from '../router.tsx';
import { signOut } from '../session.tsx';
import type { SessionUser } from '../api/types.ts';

export interface NavItem {
  to: string;
  label: string;
}

interface ShellProps {
  /** Name of the area beside the product name ("Console", "Authority portal"). */
  area?: string;
  home?: string;
  nav?: readonly NavItem[];
  user?: SessionUser | null;
  children: ReactNode;
}

/** Every page's frame: a skip link, the header with the area's navigation, the main region, the footer. */
export function Shell({ area, home = '/', nav = [], user, children }: ShellProps) {
  const { pathname } = useLocation();
  return (
    <>
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <header className="top">
        <div className="top-inner">
          <Link to={home} className="brand">
            <span aria-hidden="true" className="brand-mark">
              ◆
            </span>{' '}
            Custos{area ? <span className="brand-area"> · {area}</span> : null}
          </Link>
          {nav.length ? (
            <nav aria-label={area ? `${area} sections` : 'Sections'}>
              <ul>
                {nav.map((item) => (
                  <li key={item.to}>
                    <Link
                      to={item.to}
                      aria-current={pathname === item.to || pathname.startsWith(`${item.to}/`) ? 'page' : undefined}
                    >
                      {item.label}
                    </Link>
                  </li>
                ))}
              </ul>
            </nav>
          ) : null}
          {user ? (
            <div className="who">
              <span>
                {user.username} <span className="role">{user.role.replace('_', ' ')}</span>
              </span>
              <button type="button" className="link-button" onClick={() => void signOut()}>
                Sign out
              </button>
            </div>
          ) : null}
        </div>
      </header>
      <main id="main" tabIndex={-1}>
        {children}
      </main>
      <footer className="bottom">
        <ul>
          <li>
            <a href="/transparency">Transparency report</a>
          </li>
          <li>
            <Link to="/report">Report content</Link>
          </li>
          <li>
            <a href="/docs">API documentation</a>
          </li>
        </ul>
      </footer>
    </>
  );
}
