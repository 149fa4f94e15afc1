import { type ReactNode, useEffect, useRef } from 'react';
import { hasNavigated } from '../router.tsx';

interface PageProps {
  title: string;
  /** Shown under the heading. */
  lead?: ReactNode;
  /** Buttons or links beside the heading. */
  actions?: ReactNode;
  children?: ReactNode;
}

/**
 * A page's heading and title. After a navigation inside the app, focus moves to
 * the heading, so screen readers announce the new page and Tab starts from it.
 */
export function Page({ title, lead, actions, children }: PageProps) {
  const heading = useRef<HTMLHeadingElement>(null);
  useEffect(() => {
    document.title = `${title} · Custos`;
    if (hasNavigated) heading.current?.focus();
  }, [title]);
  return (
    <>
      <div className="page-head">
        <div>
          <h1 ref={heading} tabIndex={-1}>
            {title}
          </h1>
          {lead ? <p className="lead">{lead}</p> : null}
        </div>
        {actions ? <div className="page-actions">{actions}</div> : null}
      </div>
      {children}
    </>
  );
}
