import { Page } from '../../components/Page.tsx';
import { Shell } from '../../components/Shell.tsx';
import { Link } from '../../router.tsx';

/** `/`: what Custos is, and the way in for each kind of visitor. */
export function Home() {
  return (
    <Shell>
      <Page
        title="Custos"
        lead="The trust-and-safety and lawful-disclosure back office of this messaging service: reports and moderation, lawful requests from authorities under a published policy, and transparency about both."
      >
        <ul className="tiles">
          <li>
            <Link to="/report" className="tile">
              <strong>Report content or an account</strong>
              <span>Something unsafe or illegal? Tell us; you can follow the outcome.</span>
            </Link>
          </li>
          <li>
            <a href="/transparency" className="tile">
              <strong>Transparency report</strong>
              <span>Orders from authorities per country, what was disclosed and what was refused, and the policy.</span>
            </a>
          </li>
          <li>
            <Link to="/console" className="tile">
              <strong>Staff console</strong>
              <span>Moderators, the legal team, administrators and auditors.</span>
            </Link>
          </li>
          <li>
            <Link to="/portal" className="tile">
              <strong>Authority portal</strong>
              <span>Verified authorities file orders and follow them.</span>
            </Link>
          </li>
          <li>
            <a href="/docs" className="tile">
              <strong>API documentation</strong>
              <span>For platform engineers and authorities using the API.</span>
            </a>
          </li>
        </ul>
      </Page>
    </Shell>
  );
}
