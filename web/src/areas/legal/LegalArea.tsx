import type { AreaProps } from '../console/ConsoleArea.tsx';
import { OrderPage } from './OrderPage.tsx';
import { OrdersPage } from './OrdersPage.tsx';
import { PolicyPage } from './PolicyPage.tsx';

/** The legal team's pages: the queue of orders, one order, the policy in force. */
export default function LegalArea({ page, params }: AreaProps) {
  if (page === 'order') return <OrderPage id={params.id ?? ''} />;
  if (page === 'policy') return <PolicyPage />;
  return <OrdersPage />;
}
