import './styles.css';
import { type ReactNode, StrictMode, Suspense, lazy } from 'react';
import { createRoot } from 'react-dom/client';
import { Loading } from './components/Messages.tsx';
import { Shell } from './components/Shell.tsx';
import { Home } from './areas/home/Home.tsx';
import { useLocation } from './router.tsx';

// Each area is its own chunk: the public report form never loads the console, nor the console the portal.
const ReportArea = lazy(() => import('./areas/report/ReportArea.tsx'));
const ConsoleArea = lazy(() => import('./areas/console/ConsoleArea.tsx'));
const PortalArea = lazy(() => import('./areas/portal/PortalArea.tsx'));

function NotFound() {
  return (
    <Shell>
      <h1>Page not found</h1>
      <p>
        There is no page at this address. Go to the <a href="/">start page</a>.
      </p>
    </Shell>
  );
}

function App() {
  const { pathname } = useLocation();
  const area = pathname.split('/')[1] ?? '';
  let page: ReactNode;
  if (pathname === '/') page = <Home />;
  else if (area === 'report') page = <ReportArea />;
  else if (area === 'console') page = <ConsoleArea />;
  else if (area === 'portal') page = <PortalArea />;
  else page = <NotFound />;
  return (
    <Suspense
      fallback={
        <div className="boot">
          <Loading />
        </div>
      }
    >
      {page}
    </Suspense>
  );
}

const root = document.getElementById('root');
if (root) {
  createRoot(root).render(
    <StrictMode>
      <App />
    </StrictMode>,
  );
}
