import { SearchAttributeType } from '@temporalio/common';
import { customSearchAttributes } from '../workflows/search-attributes';

/** Names the Temporal CLI uses for search attribute types. */
const cliTypeNames: Record<string, string> = {
  [SearchAttributeType.KEYWORD]: 'Keyword',
  [SearchAttributeType.TEXT]: 'Text',
  [SearchAttributeType.INT]: 'Int',
  [SearchAttributeType.DOUBLE]: 'Double',
  [SearchAttributeType.BOOL]: 'Bool',
  [SearchAttributeType.DATETIME]: 'Datetime',
  [SearchAttributeType.KEYWORD_LIST]: 'KeywordList',
};

/**
 * Registered even before the workflows set them: `OrderPhase` is what monitoring counts
 * (`OrderPhase = "NEEDS_ATTENTION"`, api/metrics.ts), and a count on an unknown attribute fails.
 */
const monitoredAttributes = [{ name: 'OrderPhase', type: SearchAttributeType.KEYWORD }];

export function registeredSearchAttributes(): { name: string; type: string }[] {
  const names = new Set(customSearchAttributes.map((key) => key.name));
  return [...customSearchAttributes, ...monitoredAttributes.filter((key) => !names.has(key.name))];
}

/** `--search-attribute Name=Type` flags for `temporal server start-dev`. */
export function searchAttributeFlags(): string[] {
  return registeredSearchAttributes().flatMap((key) => ['--search-attribute', `${key.name}=${cliTypeNames[key.type]}`]);
}
