import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { CATEGORY_CODES } from '../src/policy/policy.js';
import {
  type CompiledRules,
  RuleCompileError,
  type RuleDefinition,
  type RuleHit,
  type ScanContext,
  compileRules,
  compileRulesFromYaml,
} from '../src/scanning/rules/rules.js';
import { MAX_CHOICES, checkPattern } from '../src/scanning/rules/safe-regex.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const EXAMPLE = path.resolve(here, '../policy/current.yaml');

type RuleInput = Partial<RuleDefinition> & { id: string; kind: RuleDefinition['kind'] };

/** A rule with defaults, overridable (category spam unless given). */
const rule = (overrides: RuleInput): Record<string, unknown> => ({ category: 'spam', ...overrides });

function compile(rules: Array<Record<string, unknown>>, allow?: Record<string, unknown>): CompiledRules {
  return compileRules({ rules, allow }, { categories: CATEGORY_CODES });
}

const ids = (hits: RuleHit[]) => hits.map((h) => h.ruleId);
const terms = (hits: RuleHit[]) => hits.map((h) => h.term);
const matches = (rules: CompiledRules, text: string, context?: ScanContext) => rules.match(text, context).length > 0;

/** The RuleCompileError a YAML policy text must be refused with. */
function refusal(yaml: string): RuleCompileError {
  let thrown: unknown;
  try {
    compileRulesFromYaml(yaml, { categories: CATEGORY_CODES });
  } catch (error) {
    thrown = error;
  }
  assert.ok(thrown instanceof RuleCompileError, `expected a RuleCompileError, got ${String(thrown)}`);
  return thrown;
}

describe('keyword rules', () => {
  const drugs = compile([
    rule({ id: 'drugs', category: 'illegal_drugs', kind: 'keywords', terms: ['cocaine', 'buy weed', 'кокаин'] }),
  ]);

  const evasions = [
    'c0c@ine',
    'COCAINE',
    'cocaaaaine',
    'cocaaine',
    'c.o.c.a.i.n.e',
    'c o c a i n e',
    'c_0_c_@_i_n_e',
    '\u0441\u043ecaine', // Cyrillic с and о
    'co\u200bca\u200cine', // zero-width space and non-joiner
    'cócaïne',
    'ｃｏｃａｉｎｅ',
    'ᴄᴏᴄᴀɪɴᴇ',
    'BUY  W33D',
    'buy-weed',
    'КОКАИН',
    'к\u006fкаин', // Latin o in a Cyrillic word
  ];
  for (const text of evasions) {
    it(`matches the evasion "${text}"`, () => {
      const hits = drugs.match(`hello ${text} today`);
      assert.equal(hits.length, 1, JSON.stringify(hits));
      assert.equal(hits[0]!.ruleId, 'drugs');
      assert.equal(hits[0]!.category, 'illegal_drugs');
    });
  }

  it('reports where the disguised word is in the original text', () => {
    const text = 'wanna c0c@ine??';
    const [hit] = drugs.match(text);
    assert.equal(text.slice(hit!.start, hit!.end), 'c0c@ine');
    assert.equal(hit!.term, 'cocaine');
  });

  it('counts occurrences and reports each rule and term once', () => {
    const hits = drugs.match('cocaine, COCAINE and c0caine');
    assert.equal(hits.length, 1);
    assert.equal(hits[0]!.count, 3);
  });

  const abuse = compile([
    rule({ id: 'abuse', category: 'hate_speech', kind: 'keywords', terms: ['cunt', 'ass', 'kill', 'pot'] }),
  ]);
  const benign = [
    'Scunthorpe United won',
    'a first class seat',
    'the assassin left',
    'as good as it gets',
    'skill and skillet',
    'potato soup',
    'у него болит рот', // Russian "mouth": Cyrillic р о т, not the Latin "pot"
    'Penistone road',
  ];
  for (const text of benign) {
    it(`leaves the benign near-miss "${text}" alone`, () => {
      assert.deepEqual(abuse.match(text), []);
    });
  }

  it('still catches the whole words and their evasions', () => {
    assert.ok(matches(abuse, 'you a$$'));
    assert.ok(matches(abuse, 'kiiiill them'));
    assert.ok(matches(abuse, 'smoke p0t'));
  });

  it('a * lifts the word boundary on its side', () => {
    const loose = compile([rule({ id: 'coin', kind: 'keywords', terms: ['*coin', 'free*'] })]);
    assert.deepEqual(terms(loose.match('buy scamcoin now')), ['*coin']);
    assert.deepEqual(terms(loose.match('freebies inside')), ['free*']);
    assert.deepEqual(loose.match('coinage is carefree'), []);
  });

  it('wholeWord: false matches inside words, and the allow list takes hits back', () => {
    const inside = compile(
      [rule({ id: 'c', category: 'hate_speech', kind: 'keywords', terms: ['cunt'], wholeWord: false })],
      {
        terms: ['scunthorpe'],
      },
    );
    assert.deepEqual(inside.match('welcome to Scunthorpe'), []);
    assert.deepEqual(ids(inside.match('you absolute cunt')), ['c']);
  });

  it('an allow-listed phrase suppresses the keywords inside it, not elsewhere', () => {
    const rules = compile([rule({ id: 'drugs', category: 'illegal_drugs', kind: 'keywords', terms: ['cocaine'] })], {
      terms: ['cocaine anonymous'],
    });
    assert.deepEqual(rules.match('meeting of Cocaine Anonymous tonight'), []);
    assert.equal(rules.match('cocaine anonymous, then buy cocaine')[0]!.count, 1);
  });

  it('matches phrases in Arabic, Persian and Hindi, and emoji terms without boundaries', () => {
    const intl = compile([
      rule({
        id: 'intl',
        category: 'illegal_drugs',
        kind: 'keywords',
        terms: ['حشيش للبيع', 'فروش تریاک', 'गांजा', '❄️🔌'],
      }),
    ]);
    assert.ok(matches(intl, 'عندي حشيش للبيع اليوم'));
    assert.ok(matches(intl, 'فروش  تریاک'));
    assert.ok(matches(intl, 'फ्री गांजा'));
    assert.ok(matches(intl, 'dm❄🔌now'));
  });
});

describe('regex rules', () => {
  it('run on lower-cased, accent-free text with folded literals', () => {
    const rules = compile([
      rule({
        id: 'menu',
        category: 'illegal_drugs',
        kind: 'regex',
        patterns: ['\\b\\d{1,3}\\s?g\\s?=\\s?\\d{2,4}€', 'Кокаин\\s+оптом'],
      }),
    ]);
    assert.ok(matches(rules, 'Menu: 3G = 40€'));
    assert.ok(matches(rules, 'КОКАИН  ОПТОМ'));
    assert.ok(!matches(rules, '3 kg of apples'));
  });

  it('a class written in capitals also matches the lower-cased text', () => {
    const rules = compile([rule({ id: 'caps', kind: 'regex', patterns: ['\\b[A-Z]{3}-\\d{4}\\b'] })]);
    assert.ok(matches(rules, 'ref ABC-1234'));
  });

  it('an earlier (shadow) regex rule does not hide a later one matching at the same place', () => {
    const rules = compile([
      rule({ id: 'trial', kind: 'regex', patterns: ['buy\\s+\\w+'], shadow: true }),
      rule({ id: 'live', kind: 'regex', patterns: ['buy\\s+followers'] }),
    ]);
    const hits = rules.match('buy followers today');
    assert.deepEqual(ids(hits).sort(), ['live', 'trial']);
    assert.equal(hits.find((h) => h.ruleId === 'trial')!.shadow, true);
    assert.equal(hits.find((h) => h.ruleId === 'live')!.shadow, false);
  });

  it('compat regexes keep case', () => {
    const rules = compile([rule({ id: 'ref', kind: 'regex', normalise: 'compat', patterns: ['\\bREF-[A-Z]{2}\\b'] })]);
    assert.ok(matches(rules, 'see REF-AB'));
    assert.ok(!matches(rules, 'see ref-ab'));
  });
});

describe('domain rules', () => {
  const rules = compile(
    [
      rule({ id: 'phish', category: 'scam_fraud', kind: 'domains', domains: ['bad.example', 'evil.blogspot.example'] }),
      rule({ id: 'tld', kind: 'domains', domains: ['zip'] }),
    ],
    { domains: ['blogspot.example', 'good.zip'] },
  );

  const listed = [
    'see bad.example',
    'https://x.bad.example/login',
    'HTTPS://WWW.BAD.EXAMPLE',
    'http://good.example@bad.example/',
    'mail me: a@bad.example',
    'bad[.]example',
    'bad(dot)example',
    'b\u0430d.example', // Cyrillic а: a homograph of a listed domain
    'bad.\u200bexample',
    'x.evil.blogspot.example',
  ];
  for (const text of listed) {
    it(`flags "${text}"`, () => {
      assert.deepEqual(ids(rules.match(text)), [text.includes('zip') ? 'tld' : 'phish']);
    });
  }

  const notListed = [
    'notbad.example',
    'bad.example.com',
    'bad example',
    'blog.blogspot.example',
    'good.zip',
    'e.g. this',
  ];
  for (const text of notListed) {
    it(`does not flag "${text}"`, () => {
      assert.deepEqual(rules.match(text), []);
    });
  }

  it('covers a whole top-level domain; the allow list is exact, so a look-alike of an allowed name is not allowed', () => {
    assert.deepEqual(ids(rules.match('download files.zip now')), ['tld']);
    assert.deepEqual(rules.match('good.zip'), []);
    assert.deepEqual(ids(rules.match('g\u043eod.zip')), ['tld']); // Cyrillic о
  });

  it('decodes punycode, in the text and in the list', () => {
    const idn = compile([rule({ id: 'idn', kind: 'domains', domains: ['пример.example', 'xn--80ak6aa92e.example'] })]);
    assert.deepEqual(ids(idn.match('visit xn--e1afmkfd.example')), ['idn']);
    assert.deepEqual(ids(idn.match('visit пример.example')), ['idn']);
  });
});

describe('crypto wallet rules', () => {
  const wallets = compile([rule({ id: 'wallet', category: 'scam_fraud', kind: 'crypto_wallet' })]);
  const form = (text: string) => terms(wallets.match(`send to ${text} now`));

  const valid: Array<[string, string]> = [
    ['1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa', 'btc-p2pkh'],
    ['3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy', 'btc-p2sh'],
    ['bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4', 'btc-segwit'],
    ['BC1QW508D6QEJXTDG4Y5R3ZARVARY0C5XW7KV8F3T4', 'btc-segwit'],
    ['bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqzk5jj0', 'btc-taproot'],
    ['0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed', 'eth'],
    ['0xfb6916095ca1df60bb79ce92ce3ea74c37c5d359', 'eth'],
    ['TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t', 'trx'],
    ['44AFFq5kSiGBoZ4NMDwYtN18obc8AemS33DBLWs3H7otXft3XjrpDtQGv7SqSsaBYBb98uNbr2VBBEt7f2wfn3RVGQBEP3A', 'xmr'],
  ];
  for (const [address, expected] of valid) {
    it(`finds ${expected} ${address.slice(0, 12)}… with a valid checksum`, () => {
      assert.deepEqual(form(address), [expected]);
    });
  }

  const invalid: Array<[string, string]> = [
    ['1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNb', 'base58check fails'],
    ['bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t5', 'bech32 checksum fails'],
    ['bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3T4', 'bech32 of mixed case'],
    ['bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vq47zagq', 'taproot with a bech32 (not bech32m) checksum'],
    ['0x5aaeb6053F3E94C9b9A09f33669435E7Ef1BeAed', 'EIP-55 case fails'],
    ['TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6u', 'tron checksum fails'],
    [
      '44AFFq5kSiGBoZ4NMDwYtN18obc8AemS33DBLWs3H7otXft3XjrpDtQGv7SqSsaBYBb98uNbr2VBBEt7f2wfn3RVGQBEP3B',
      'monero checksum fails',
    ],
  ];
  for (const [address, why] of invalid) {
    it(`ignores ${address.slice(0, 12)}… (${why})`, () => {
      assert.deepEqual(form(address), []);
    });
  }

  it('does not take a token inside a longer word for an address', () => {
    assert.deepEqual(form('x1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa'), []);
  });

  it('finds an address split by a zero-width space', () => {
    assert.deepEqual(form('1A1zP1eP5QGefi2DMPT\u200bfTL5SLmv7DivfNa'), ['btc-p2pkh']);
  });

  it('checksum: false flags the shape alone; networks narrows what is flagged', () => {
    const lax = compile([rule({ id: 'lax', kind: 'crypto_wallet', checksum: false, networks: ['btc'] })]);
    assert.deepEqual(terms(lax.match('1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNb')), ['btc-p2pkh']);
    assert.deepEqual(lax.match('0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed'), []);
  });
});

describe('phone rules', () => {
  const phones = compile([rule({ id: 'phone', kind: 'phone', surfaces: ['public'] })]);

  it('finds international numbers written with separators, and never reports the number itself', () => {
    const hits = phones.match('call +49 151 2345 6789 or 0044 20 7946 0958', { surface: 'public' });
    assert.deepEqual(terms(hits).sort(), ['phone:DE', 'phone:GB']);
    assert.ok(hits.every((h) => !h.term.includes('151')));
  });

  it('accepts anonymous +888 numbers', () => {
    assert.deepEqual(terms(phones.match('reach me at +888 0123 4567', { surface: 'public' })), ['phone:001']);
  });

  it('does not take dates, prices or short numbers for phone numbers', () => {
    assert.deepEqual(phones.match('on 2024-01-15, 15.01.2024, it cost 1,000,000 or +49 12', { surface: 'public' }), []);
  });

  it('applies only on the surfaces it names', () => {
    assert.deepEqual(phones.match('call +49 151 2345 6789', { surface: 'private' }), []);
    assert.ok(matches(phones, 'call +49 151 2345 6789')); // surface unknown: every rule applies
  });

  it('reads local numbers only in the region a rule names, and filters by region', () => {
    const local = compile([rule({ id: 'de', kind: 'phone', localRegion: 'DE', regions: ['DE'] })]);
    assert.deepEqual(terms(local.match('ruf an: 0151 / 234 56 789')), ['phone:DE']);
    assert.deepEqual(local.match('call +44 20 7946 0958'), []);
    assert.deepEqual(phones.match('ruf an: 0151 / 234 56 789'), []);
  });
});

describe('rule metadata and context', () => {
  it('carries category, score, action and shadow, with defaults', () => {
    const rules = compile([
      rule({ id: 'a', category: 'weapons', kind: 'keywords', terms: ['glock switch'], score: 0.7, action: 'remove' }),
      rule({ id: 'b', kind: 'keywords', terms: ['free followers'] }),
    ]);
    const [a] = rules.match('selling a glock switch');
    assert.deepEqual(
      { category: a!.category, kind: a!.kind, score: a!.score, action: a!.action, shadow: a!.shadow },
      { category: 'weapons', kind: 'keywords', score: 0.7, action: 'remove', shadow: false },
    );
    const [b] = rules.match('get free followers');
    assert.deepEqual({ score: b!.score, action: b!.action }, { score: 1, action: 'review' });
  });

  it('a rule limited to languages applies to those and to messages of unknown language', () => {
    const rules = compile([rule({ id: 'ru', kind: 'keywords', terms: ['закладки'], languages: ['ru'] })]);
    assert.ok(matches(rules, 'закладки', { language: 'ru' }));
    assert.ok(matches(rules, 'закладки'));
    assert.ok(!matches(rules, 'закладки', { language: 'en' }));
  });
});

describe('bounded work', () => {
  it('scans at most maxChars of a 1 MB message and says so', () => {
    const rules = compileRules(
      {
        rules: [
          rule({ id: 'k', kind: 'keywords', terms: ['needle'] }),
          rule({ id: 'r', kind: 'regex', patterns: ['pin\\d{3}'] }),
        ],
      },
      { categories: CATEGORY_CODES, limits: { maxChars: 1_048_576, maxRegexChars: 65_536 } },
    );
    const filler = 'lorem ipsum dolor sit amet '.repeat(40_000); // ~1.08 MB
    const early = `needle pin123 ${filler}`;
    const scan = rules.scan(early);
    assert.equal(scan.truncated, true);
    assert.equal(scan.scannedChars, 1_048_576);
    assert.deepEqual(ids(scan.hits).sort(), ['k', 'r']);
    const late = `${filler.slice(0, 100_000)} pin123 ${filler} needle`;
    const lateScan = rules.scan(late);
    assert.deepEqual(lateScan.hits, [], 'the needle lies past maxChars and the pin past maxRegexChars');
  });

  it('accepted regexes are rewritten with bounded repeats and a bounded backtracking estimate', () => {
    // \w+@ backtracks quadratically on a long run of letters (5 s on 64 K); capped at 64 repeats it is linear.
    const checked = checkPattern('\\w+@', null);
    assert.equal(checked.source, '\\w{1,64}\\u{40}');
    assert.ok(checked.choices <= MAX_CHOICES);
    assert.equal(checkPattern('buy\\s+\\w+\\s+online', null).choices, 64, 'disjoint neighbours do not multiply');
    const rules = compile([rule({ id: 'at', kind: 'regex', patterns: ['\\w+@'] })]);
    assert.deepEqual(rules.scan('a'.repeat(70_000)).hits, []);
    assert.deepEqual(ids(rules.scan(`${'a'.repeat(100)}@`).hits), ['at']);
  });

  it('keyword matching makes one automaton pass whatever the number of rules', () => {
    // Letters only: digits would be read as leetspeak and make names collide.
    const name = (k: number) => [...k.toString(20)].map((d) => 'bcdfghjkmnpqrstvwxyz'[Number.parseInt(d, 20)]).join('');
    const build = (count: number) =>
      compile(
        Array.from({ length: count }, (_, k) =>
          rule({ id: `k${k}`, kind: 'keywords', terms: [`w${name(k)}zq`, `p${name(k)}qz`] }),
        ),
      );
    const small = build(100);
    const large = build(10_000);
    const text = `some chat with w${name(1)}zq and p${name(2)}qz and a long tail of words `.repeat(50);
    for (const rules of [small, large]) {
      const before = rules.stats.automaton!.scans;
      const hits = rules.match(text);
      assert.deepEqual(ids(hits).sort(), ['k1', 'k2']);
      assert.equal(rules.stats.automaton!.scans, before + 1, 'one pass of the automaton per message');
      assert.ok(rules.stats.automaton!.lastScanSteps <= 2 * text.length, 'at most two transitions per character');
      assert.equal(rules.stats.regexPasses, 0);
    }
    assert.equal(large.stats.keywordPatterns, 20_000);
  });

  it('all regexes of a level run as one combined pattern', () => {
    const rules = compile(
      Array.from({ length: 200 }, (_, k) => rule({ id: `r${k}`, kind: 'regex', patterns: [`\\bcode${k}x\\d{2}\\b`] })),
    );
    assert.equal(rules.stats.regexPatterns, 200);
    assert.equal(rules.stats.regexPasses, 1);
    assert.deepEqual(ids(rules.match('use code7x12 and code150x99')).sort(), ['r150', 'r7']);
  });
});

describe('refusing a bad rules section at start', () => {
  const policy = (rulesYaml: string) => `name: test
scanning:
  thresholds:
    default: { review: 0.6, remove: 1.01 }
  rules:
${rulesYaml}`;

  it('names the rule and the line of an unknown category', () => {
    const error = refusal(
      policy(`    - id: ok-rule
      category: spam
      kind: keywords
      terms: [free followers]
    - id: drug-sale
      category: drugz
      kind: keywords
      terms: [cocaine]
`),
    );
    assert.equal(error.ruleId, 'drug-sale');
    assert.equal(error.line, 11);
    assert.match(error.message, /rule 'drug-sale' \(line 11\): unknown category 'drugz'/);
  });

  it('names the rule and the line of a malformed regex', () => {
    const error = refusal(
      policy(`    - id: menu
      category: illegal_drugs
      kind: regex
      patterns:
        - 'fine\\d+'
        - '(unclosed'
`),
    );
    assert.equal(error.ruleId, 'menu');
    assert.equal(error.line, 11);
    assert.match(error.message, /malformed regex \/\(unclosed\//);
  });

  const unsafe: Array<[string, RegExp]> = [
    ['(a+)+$', /nested quantifier/],
    ['(\\w+\\s?)*x', /nested quantifier/],
    ['(a|ab)*c', /alternatives that can start with the same character/],
    ['.*a.*b', /backtrack ~\d+ ways per character/],
    ['\\d+\\d+x', /backtrack/],
    ['(x)\\1', /backreferences/],
    ['a*', /matches the empty string/],
  ];
  for (const [pattern, reason] of unsafe) {
    it(`refuses the ReDoS-prone regex /${pattern}/, saying why`, () => {
      const error = refusal(
        policy(`    - id: risky
      category: spam
      kind: regex
      patterns: ['${pattern}']
`),
      );
      assert.equal(error.ruleId, 'risky');
      assert.equal(error.line, 9);
      assert.match(error.message, /unsafe regex/);
      assert.match(error.message, reason);
    });
  }

  it('refuses duplicate ids, misplaced fields, missing lists and bad domains, all at once', () => {
    const error = refusal(
      policy(`    - id: twice
      category: spam
      kind: keywords
      terms: [a b]
    - id: twice
      category: spam
      kind: domains
      domains: ['https://bad.example/path']
      terms: [x]
    - id: empty
      category: spam
      kind: regex
`),
    );
    const messages = error.problems.map((p) => `${p.ruleId}@${p.line}: ${p.message}`);
    assert.ok(
      messages.some((m) => /^twice@10: duplicate rule id/.test(m)),
      messages.join('\n'),
    );
    assert.ok(
      messages.some((m) => /^twice@13: 'https:\/\/bad.example\/path' is not a bare domain/.test(m)),
      messages.join('\n'),
    );
    assert.ok(
      messages.some((m) => /^twice@14: 'terms' does not apply to a domains rule/.test(m)),
      messages.join('\n'),
    );
    assert.ok(
      messages.some((m) => /^empty@15: a regex rule needs 'patterns'/.test(m)),
      messages.join('\n'),
    );
  });

  it('refuses an unknown field and a kind that does not exist, with their lines', () => {
    const error = refusal(
      policy(`    - id: odd
      category: spam
      kind: keyword
      terms: [x y]
      colour: red
`),
    );
    const messages = error.problems.map((p) => `${p.line}: ${p.message}`);
    assert.ok(
      messages.includes("8: must be one of 'keywords', 'regex', 'domains', 'phone', 'crypto_wallet'"),
      messages.join('\n'),
    );
    assert.ok(messages.includes("10: unknown field 'colour'"), messages.join('\n'));
  });

  it('reports a YAML syntax error with its line', () => {
    const error = refusal('scanning:\n  rules:\n    - id: x\n     kind: [unclosed\n');
    assert.ok(error.line !== undefined && error.line >= 3, error.message);
  });
});

describe('the shipped rules (policy/current.yaml)', () => {
  const example = compileRulesFromYaml(fs.readFileSync(EXAMPLE, 'utf8'), { categories: CATEGORY_CODES });
  const cases: Array<[string, string[], ScanContext?]> = [
    ['B.u.y c0c@ine for sale!!! dm me for the menu', ['drugs-menu-regex', 'drugs-sale-en', 'drugs-substances']],
    ['есть закладки в центре', ['drugs-sale-ru'], { language: 'ru' }],
    ['vendo maconha, entrega rápida', ['drugs-sale-es-pt'], { language: 'pt' }],
    ['send 0.5 BTC and we will return 1 BTC', ['scam-send-get-back']],
    ['claim at https://x.wallet-validate.example/now', ['scam-phishing-domains']],
    ['donate 1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa', ['scam-wallet-address'], { surface: 'public' }],
    ['call +49 151 2345 6789 today', ['spam-phone-public'], { surface: 'public' }],
    ['I go to Cocaine Anonymous on Tuesdays', []],
    ['read https://telegram.org/faq', []],
  ];
  for (const [text, expected, context] of cases) {
    it(`"${text}" → ${expected.join(', ') || 'nothing'}`, () => {
      assert.deepEqual([...new Set(ids(example.match(text, context)))].sort(), expected);
    });
  }
});
