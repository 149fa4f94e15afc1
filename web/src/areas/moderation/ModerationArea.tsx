import type { AreaProps } from '../console/ConsoleArea.tsx';
import { AppealsPage } from './AppealsPage.tsx';
import { CasePage } from './CasePage.tsx';
import { QueuePage } from './QueuePage.tsx';
import { StatementPage } from './StatementPage.tsx';

/** The moderator's pages: queue, case, appeals, a decision's statement of reasons. */
export default function ModerationArea({ page, params, user }: AreaProps) {
  if (page === 'case') return <CasePage id={params.id ?? ''} user={user} />;
  if (page === 'statement') return <StatementPage id={params.id ?? ''} user={user} />;
  if (page === 'appeals') return <AppealsPage />;
  return <QueuePage />;
}
