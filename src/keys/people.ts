import { EntitleError } from '../errors/index.ts';

/**
 * A person's handle: their name as Unicode NFKC, without invisible formatting characters, with
 * spaces collapsed and trimmed, in lower case. "Alice Smith", " alice  SMITH" and "Ａｌｉｃｅ Smith"
 * are one person. The two-person rule compares handles, so no spelling of a name makes a second
 * person.
 */
export function personHandle(name: string): string {
  return name
    .normalize('NFKC')
    .replace(/\p{Cf}/gu, '')
    .replace(/\s+/gu, ' ')
    .trim()
    .toLocaleLowerCase('en-GB');
}

/** Whether two recorded actors are the same person, however each name was spelt. */
export function samePerson(a: string, b: string): boolean {
  return personHandle(a) === personHandle(b);
}

/** A person's name as given, checked: letters, marks, digits, spaces and . ' _ - only, 1 to 100 characters. */
export function checkPersonName(name: string, field = '--person'): string {
  const tidy = name
    .normalize('NFKC')
    .replace(/\p{Cf}/gu, '')
    .replace(/\s+/gu, ' ')
    .trim();
  if (!/^[\p{L}\p{M}\p{N}][\p{L}\p{M}\p{N} ._'’-]{0,99}$/u.test(tidy))
    throw new EntitleError('ENTITLE_INPUT_INVALID', 'the person cannot be named so', [
      {
        field,
        message:
          "give the person's name: 1 to 100 letters, digits, spaces, dots, apostrophes, underscores or hyphens, such as Alice Smith",
      },
    ]);
  return tidy;
}
