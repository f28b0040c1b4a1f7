import { EntitleError } from '../errors/index.ts';

/**
 * A person's handle: their name folded so that no way of writing it makes a second person.
 * Unicode compatibility forms; invisible characters, accents and other marks removed; every
 * apostrophe one apostrophe; dashes, hyphens and runs of spaces one space; full case folding (ß
 * is ss). "Alice Smith", " alice  SMITH", "Ａｌｉｃｅ Smith" and "Siân O’Brien-Jones" / "sian o'brien
 * jones" fold alike. Folding this far can make two people one: so a key joins a person who holds
 * keys already only when that is asked for (createKey), and two people whose names fold alike are
 * told apart by how they are named. The two-person rule compares handles.
 */
export function personHandle(name: string): string {
  return name
    .normalize('NFKD')
    .replace(/[\p{M}\p{Cf}\p{Default_Ignorable_Code_Point}]/gu, '')
    .replace(/[’‘`´ʼ′]/gu, "'")
    .replace(/[\p{Pd}\s]+/gu, ' ')
    .trim()
    .toUpperCase()
    .toLowerCase()
    .normalize('NFKC');
}

/** Whether two recorded actors are the same person, however each name was spelt. */
export function samePerson(a: string, b: string): boolean {
  return personHandle(a) === personHandle(b);
}

/** The alphabets a name's letters come from, of those whose letters look alike. */
function alphabets(name: string): Set<string> {
  const found = new Set<string>();
  for (const c of name) {
    if (/\p{Script=Latin}/u.test(c)) found.add('Latin');
    else if (/\p{Script=Cyrillic}/u.test(c)) found.add('Cyrillic');
    else if (/\p{Script=Greek}/u.test(c)) found.add('Greek');
  }
  return found;
}

/**
 * A person's name as given, checked: letters, marks, digits, spaces and . ' ( ) _ - only, 1 to 100
 * characters, in one alphabet (a Cyrillic А in "Аlice" would make a second Alice who looks the
 * same), invisible characters removed.
 */
export function checkPersonName(name: string, field = '--person'): string {
  const tidy = name
    .normalize('NFKC')
    .replace(/[\p{Cf}\p{Default_Ignorable_Code_Point}]/gu, '')
    .replace(/\s+/gu, ' ')
    .trim();
  if (alphabets(tidy).size > 1 || !/^[\p{L}\p{M}\p{N}][\p{L}\p{M}\p{N} ._'’()-]{0,99}$/u.test(tidy))
    throw new EntitleError('ENTITLE_INPUT_INVALID', 'the person cannot be named so', [
      {
        field,
        message:
          "give the person's name in one alphabet: 1 to 100 letters, digits, spaces, dots, apostrophes, brackets, underscores or hyphens, such as Alice Smith",
      },
    ]);
  return tidy;
}
