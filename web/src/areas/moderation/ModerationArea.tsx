import type { AreaProps } from '../console/ConsoleArea.tsx';
import { AppealsPage } from './AppealsPage.tsx';
import { CasePage } from './CasePage.tsx';
import { QueuePage } from './QueuePage.tsx';

/** The moderator's pages: queue, case, appeals. */
export default function ModerationArea({ page, params, user }: AreaProps) {
  if (page === 'case') return <CasePage id={params.id ?? ''} user={user} />;
  if (page === 'appeals') return <AppealsPage />;
  return <QueuePage />;
}
