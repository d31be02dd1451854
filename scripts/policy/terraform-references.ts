/**
 * Finding resources in a stack's Terraform JSON and following the references between them. Controls of a
 * resource are often separate resources that point at it (`"bucket": "${aws_s3_bucket.raw_bucket_X.id}"`),
 * so a rule about a bucket must find the resources that reference that bucket.
 */
import type { Block, StackOutput, TerraformResource } from './rule';

/** Every resource of a type in a stack, in the order of their names. */
export function resourcesOf(stack: StackOutput, type: string): TerraformResource[] {
  const byName = stack.json.resource?.[type] ?? {};
  return Object.keys(byName)
    .sort()
    .map((name) => ({ type, name, address: `${type}.${name}`, block: byName[name]! }));
}

/** Every provider block of a provider (`aws`), addressed `provider.aws` or `provider.aws.<alias>`. */
export function providersOf(stack: StackOutput, provider: string): TerraformResource[] {
  return (stack.json.provider?.[provider] ?? []).map((block) => {
    const name = typeof block.alias === 'string' ? `${provider}.${block.alias}` : provider;
    return { type: `provider.${provider}`, name, address: `provider.${name}`, block };
  });
}

const REFERENCE = /^\$\{([a-z0-9_]+)\.([A-Za-z0-9_-]+)\.([a-z0-9_]+)\}$/;

/** The resource a value such as `${aws_s3_bucket.raw.id}` points at, as `{ type, name, attribute }`. */
export function parseReference(value: unknown): { type: string; name: string; attribute: string } | undefined {
  if (typeof value !== 'string') return undefined;
  const match = REFERENCE.exec(value);
  return match ? { type: match[1]!, name: match[2]!, attribute: match[3]! } : undefined;
}

/**
 * Whether `value` designates `target`: a whole-value reference to it (any attribute, e.g. `.id`, `.bucket`, `.name`),
 * or the literal that `target` sets in `literalAttribute` (a bucket named by its name rather than referenced).
 */
export function designates(value: unknown, target: TerraformResource, literalAttribute?: string): boolean {
  const reference = parseReference(value);
  if (reference !== undefined) return reference.type === target.type && reference.name === target.name;
  if (literalAttribute === undefined) return false;
  const literal = target.block[literalAttribute];
  return typeof literal === 'string' && literal !== '' && value === literal;
}

/** The resources of `type` in the stack whose `attribute` designates `target` (see `designates`). */
export function resourcesReferencing(
  stack: StackOutput,
  type: string,
  attribute: string,
  target: TerraformResource,
  literalAttribute?: string,
): TerraformResource[] {
  return resourcesOf(stack, type).filter((resource) => designates(resource.block[attribute], target, literalAttribute));
}

/** The resource a reference points at, when it is in the same stack. */
export function resolve(stack: StackOutput, value: unknown): TerraformResource | undefined {
  const reference = parseReference(value);
  if (reference === undefined) return undefined;
  return resourcesOf(stack, reference.type).find((resource) => resource.name === reference.name);
}

/** A nested block, which cdktf writes as an object or as a list of one object depending on the provider schema. */
export function single(value: unknown): Block | undefined {
  const first = Array.isArray(value) ? value[0] : value;
  return first !== null && typeof first === 'object' ? (first as Block) : undefined;
}

/** A nested block that may repeat, as a list whether cdktf wrote one object or several. */
export function every(value: unknown): Block[] {
  if (Array.isArray(value)) return value.filter((item): item is Block => item !== null && typeof item === 'object');
  return value !== null && typeof value === 'object' ? [value as Block] : [];
}

/** Terraform booleans arrive as JSON booleans or as the strings "true"/"false" (e.g. EBS `encrypted`). */
export function isTrue(value: unknown): boolean {
  return value === true || value === 'true';
}

/** See isTrue. */
export function isFalse(value: unknown): boolean {
  return value === false || value === 'false';
}
