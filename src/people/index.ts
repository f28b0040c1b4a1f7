/** People: a person's handle, so that the two-person rule compares people, never spellings. */
export { checkPersonName, personHandle, samePerson } from './people.ts';
