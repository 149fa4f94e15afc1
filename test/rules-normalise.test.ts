import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AhoCorasick } from '../src/scanning/rules/aho-corasick.js';
import { TextLevels, isSpacedWordUnit, normalise, toSourceSpan } from '../src/scanning/rules/normalise.js';

const full = (text: string) => normalise(text, 'full').text;

describe('rule normalisation', () => {
  const cocaine: Array<[string, string]> = [
    ['case', 'COCAINE'],
    ['leetspeak', 'c0c@ine'],
    ['leetspeak with 1 and 3', 'c0ca1n3'],
    ['repeated letters', 'cocaaaaaine'],
    ['a doubled letter', 'cocaine'.replace('a', 'aa')],
    ['dots between letters', 'c.o.c.a.i.n.e'],
    ['spaces between letters', 'c o c a i n e'],
    ['dashes and leet between letters', 'c-0-c-@-i-n-e'],
    ['Cyrillic с and о in a Latin word', '\u0441\u043ecaine'],
    ['Greek ο in a Latin word', 'c\u03bfcaine'],
    ['zero-width space and joiner inside', 'co\u200bca\u200dine'],
    ['soft hyphen and word joiner', 'coc\u00adai\u2060ne'],
    ['bidi controls', '\u202ecocaine\u202c'],
    ['accents', 'cócaïné'],
    ['combining marks (zalgo)', 'c\u0301o\u0308c\u0327aine\u0336'],
    ['full-width letters', 'ｃｏｃａｉｎｅ'],
    ['mathematical bold letters', '𝐜𝐨𝐜𝐚𝐢𝐧𝐞'],
    ['small capitals', 'ᴄᴏᴄᴀɪɴᴇ'],
    ['circled letters', 'ⓒⓞⓒⓐⓘⓝⓔ'],
  ];
  for (const [how, text] of cocaine) {
    it(`folds ${how} ("${text}") to the keyword's form`, () => {
      assert.equal(full(text), full('cocaine'));
    });
  }

  it('leaves a Russian word in Cyrillic, whatever its case', () => {
    assert.equal(full('КОКАИН'), 'кокаин');
    assert.equal(full('кокаин'), 'кокаин');
  });

  it('folds a Latin look-alike slipped into a Cyrillic word to Cyrillic', () => {
    assert.equal(full('к\u006fкаин'), full('кокаин')); // Latin o
  });

  it('reads leetspeak in Cyrillic words as Cyrillic letters', () => {
    assert.equal(full('к0кс'), full('кокс'));
    assert.equal(full('з@кладки'), full('закладки'));
  });

  it('does not fold a whole word written in another script (рот is not "pot")', () => {
    assert.notEqual(full('рот'), full('pot'));
    assert.notEqual(full('сок'), full('cok'));
  });

  it('keeps numbers as numbers: leetspeak applies only inside words with letters', () => {
    assert.equal(full('call 100 times in 2024'), 'cai 100 times in 2024');
    assert.equal(full('h0t'), 'hot');
  });

  it('keeps a trailing "!" and a leading "@" as punctuation, not letters', () => {
    assert.equal(full('cocaine!!!'), 'cocaine');
    assert.equal(full('@cocaine'), 'cocaine');
  });

  it('collapses runs of spaces and punctuation to one space', () => {
    assert.equal(full('buy -- cocaine'), full('buy cocaine'));
    assert.equal(full('buy\n\ncocaine'), full('buy cocaine'));
  });

  it('records how long each collapsed run was', () => {
    const n = normalise('asssss as', 'full');
    assert.equal(n.text, 'as as');
    assert.deepEqual([...n.runs!], [1, 5, 1, 1, 1]);
  });

  it('maps normalised offsets back to the source', () => {
    const source = 'Buy c\u200b0c@ine now';
    const n = normalise(source, 'full');
    const at = n.text.indexOf('cocaine');
    const span = toSourceSpan(n, at, at + 'cocaine'.length);
    assert.equal(source.slice(span.start, span.end), 'c\u200b0c@ine');
  });

  it('maps offsets through emoji and letters joined across separators', () => {
    const source = '😀 c.o.c.a.i.n.e!';
    const n = normalise(source, 'full');
    const at = n.text.indexOf('cocaine');
    const span = toSourceSpan(n, at, at + 7);
    assert.equal(source.slice(span.start, span.end), 'c.o.c.a.i.n.e');
  });

  it('basic level: lower case, no accents, look-alikes folded, punctuation kept', () => {
    assert.equal(normalise('Visit PAYPAL.com!', 'basic').text, 'visit paypal.com!');
    assert.equal(normalise('p\u0430ypal.com', 'basic').text, 'paypal.com');
    assert.equal(normalise('Café — 1000', 'basic').text, 'cafe — 1000');
  });

  it('compat level keeps case and removes invisible characters', () => {
    assert.equal(normalise('1A1z\u200bP１２', 'compat').text, '1A1zP12');
    assert.equal(normalise('٠١٢٣', 'compat').text, '0123');
  });

  it('survives empty text, lone surrogates, right-to-left and emoji-only text', () => {
    assert.equal(full(''), '');
    assert.equal(full('a\ud800b'), 'ab');
    assert.equal(full('\udc00'), '');
    assert.equal(full('🔥🔥🔥'), '🔥');
    assert.equal(full('مرحبا بالعالم'), 'مرحبا بالعالم');
  });

  it('is a fixed point: folding folded text changes nothing', () => {
    for (const text of ['c0c@ine for sale', 'КОКАИН', 'Café 2024', 'ᴄᴏᴄᴀɪɴᴇ!!', 'b.u.y c.o.k.e']) {
      assert.equal(full(full(text)), full(text), text);
    }
  });

  it('TextLevels gives the same results as normalise, level by level', () => {
    const levels = new TextLevels();
    for (const text of ['plain ascii text', 'Кокаин и соcaine', 'Ｆｕｌｌ ｗｉｄｔｈ', 'mixed 😀 ünïcode']) {
      levels.reset(text);
      for (const level of ['compat', 'basic', 'full'] as const) {
        const view = levels.get(level);
        const copy = normalise(text, level);
        assert.equal(view.text, copy.text, `${level}: ${text}`);
        assert.deepEqual([...view.offsets], [...copy.offsets], `${level} offsets: ${text}`);
      }
    }
  });

  it('treats Han, kana and Thai as unspaced, so they never need a word boundary', () => {
    assert.equal(isSpacedWordUnit('a'.charCodeAt(0)), true);
    assert.equal(isSpacedWordUnit('я'.charCodeAt(0)), true);
    assert.equal(isSpacedWordUnit('中'.charCodeAt(0)), false);
    assert.equal(isSpacedWordUnit(' '.charCodeAt(0)), false);
  });
});

describe('Aho–Corasick automaton', () => {
  const naive = (patterns: string[], text: string) => {
    const out: string[] = [];
    patterns.forEach((p, id) => {
      for (let i = text.indexOf(p); i >= 0; i = text.indexOf(p, i + 1)) out.push(`${id}@${i}`);
    });
    return out.sort();
  };
  const found = (ac: AhoCorasick, text: string) => {
    const out: string[] = [];
    ac.scan(text, (id, start) => out.push(`${id}@${start}`));
    return out.sort();
  };

  it('finds every occurrence of every pattern, overlaps included (the paper’s he/she/his/hers)', () => {
    const patterns = ['he', 'she', 'his', 'hers'];
    const ac = new AhoCorasick(
      patterns.map((text) => ({ text, wordStart: false, wordEnd: false })),
      () => false,
    );
    assert.deepEqual(found(ac, 'ushers'), naive(patterns, 'ushers'));
    assert.deepEqual(found(ac, 'ushers'), ['0@2', '1@1', '3@2']);
  });

  it('agrees with a naive search on random texts and pattern sets', () => {
    let seed = 42;
    const rnd = () => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed / 0x7fffffff;
    };
    const word = (max: number) =>
      Array.from({ length: 1 + Math.floor(rnd() * max) }, () => 'abc'[Math.floor(rnd() * 3)]).join('');
    for (let round = 0; round < 50; round++) {
      const patterns = [...new Set(Array.from({ length: 1 + Math.floor(rnd() * 20) }, () => word(5)))];
      const text = word(200);
      const ac = new AhoCorasick(
        patterns.map((p) => ({ text: p, wordStart: false, wordEnd: false })),
        () => false,
      );
      assert.deepEqual(found(ac, text), naive(patterns, text), `round ${round}`);
    }
  });

  it('checks word boundaries only on the sides a pattern asks for', () => {
    const ac = new AhoCorasick(
      [
        { text: 'cat', wordStart: true, wordEnd: true },
        { text: 'dog', wordStart: false, wordEnd: true },
      ],
      (u) => u !== 0x20,
    );
    assert.deepEqual(found(ac, 'cat concat cats hotdog dogs'), ['0@0', '1@19']);
  });

  it('takes at most two transitions per character, whatever the number of patterns', () => {
    const many = Array.from({ length: 5000 }, (_, k) => ({
      text: `w${k.toString(36)}x`,
      wordStart: false,
      wordEnd: false,
    }));
    const ac = new AhoCorasick(many, () => false);
    const text = 'w1xw2w3xw'.repeat(1000);
    ac.scan(text, () => {});
    assert.ok(
      ac.stats.lastScanSteps <= 2 * text.length,
      `${ac.stats.lastScanSteps} steps for ${text.length} characters`,
    );
  });
});
