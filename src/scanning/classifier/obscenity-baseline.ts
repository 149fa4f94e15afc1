import { RegExpMatcher, englishDataset, englishRecommendedTransformers } from 'obscenity';
import type { CategoryCode } from '../../policy/policy.js';
import type { CategoryPredictor } from './evaluation.js';

/**
 * The npm profanity filter `obscenity` (English preset with its recommended transformers)
 * as a baseline. It flags profanity, not categories, so each of its terms is mapped by
 * hand: slurs against a group → hate_speech; explicit sexual terms → sexual_solicitation;
 * generic swearing (fuck, shit, bitch, …) → nothing, because swearing is neither hate
 * speech nor solicitation and counting it as either only adds false positives.
 */
const HATE_TERMS = new Set([
  'abo',
  'abeed',
  'africoon',
  'arabush',
  'boonga',
  'chingchong',
  'chink',
  'kike',
  'negro',
  'nigger',
  'fag',
  'dyke',
  'tranny',
  'retard',
  'spastic',
]);

const SEXUAL_TERMS = new Set([
  'anal',
  'anus',
  'bestiality',
  'blowjob',
  'boob',
  'buttplug',
  'cock',
  'cum',
  'deepthroat',
  'dick',
  'dildo',
  'doggystyle',
  'double penetration',
  'ejaculate',
  'felch',
  'fellatio',
  'finger bang',
  'fisting',
  'gangbang',
  'handjob',
  'hentai',
  'hooker',
  'incest',
  'jerk off',
  'jizz',
  'lubejob',
  'masturbate',
  'orgasm',
  'orgy',
  'penis',
  'porn',
  'pussy',
  'semen',
  'sex',
  'slut',
  'tit',
  'vagina',
  'wank',
  'whore',
]);

/** The categories this mapping can flag. */
export const OBSCENITY_CATEGORIES: readonly CategoryCode[] = ['hate_speech', 'sexual_solicitation'];

/** A predictor running obscenity and mapping its matched terms to categories. */
export function obscenityPredictor(): CategoryPredictor {
  const matcher = new RegExpMatcher({ ...englishDataset.build(), ...englishRecommendedTransformers });
  return (text) => {
    const flagged = new Set<CategoryCode>();
    for (const match of matcher.getAllMatches(text)) {
      const word = englishDataset.getPayloadWithPhraseMetadata(match).phraseMetadata?.originalWord;
      if (word === undefined) continue;
      if (HATE_TERMS.has(word)) flagged.add('hate_speech');
      else if (SEXUAL_TERMS.has(word)) flagged.add('sexual_solicitation');
    }
    return flagged;
  };
}
