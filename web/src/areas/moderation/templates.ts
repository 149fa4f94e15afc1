/** Ready-made decisions a moderator starts from and adjusts (keys 1–5 on the case page). */
export interface DecisionTemplate {
  label: string;
  actions: { type: string; days?: number }[];
  /** Left out: the case's own category stays. */
  category?: string;
  ground: 'illegal' | 'terms';
  explanation: string;
}

export const DECISION_TEMPLATES: readonly DecisionTemplate[] = [
  {
    label: 'No violation: dismiss',
    actions: [{ type: 'dismiss' }],
    ground: 'terms',
    explanation:
      'We reviewed the reported content against our terms of service and the law and found no violation. Nothing is removed and no restriction applies.',
  },
  {
    label: 'Spam: remove',
    actions: [{ type: 'remove_content' }],
    category: 'spam',
    ground: 'terms',
    explanation:
      'The message is unsolicited bulk advertising sent to many people, which our terms of service do not allow. It has been removed.',
  },
  {
    label: 'Scam: remove and ban',
    actions: [{ type: 'remove_content' }, { type: 'ban_account' }],
    category: 'scam_fraud',
    ground: 'illegal',
    explanation:
      'The message tries to obtain money or personal data by deception. Fraud is illegal and the account was used for it, so the message is removed and the account closed.',
  },
  {
    label: 'Threat: remove, suspend 30 days',
    actions: [{ type: 'remove_content' }, { type: 'suspend_account', days: 30 }],
    category: 'violent_threat',
    ground: 'illegal',
    explanation:
      'The message threatens serious violence against a person. Such threats are illegal; the message is removed and the account suspended for 30 days.',
  },
  {
    label: 'Hate speech: remove and warn',
    actions: [{ type: 'remove_content' }, { type: 'warn' }],
    category: 'hate_speech',
    ground: 'terms',
    explanation:
      'The message attacks people for a protected characteristic, which our terms of service do not allow. It is removed and the account warned; repeated violations lead to suspension.',
  },
];
