// Request-body validation with ajv. A failure is M_BAD_JSON naming the offending field
// (client-server § "Common error codes": "missing required keys, invalid values for keys").

import { Ajv2020, type AnySchema, type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js';
import ajvFormats from 'ajv-formats';
import { badJson } from './matrix-error.ts';

// ajv-formats is CommonJS; under Node's ESM interop its plugin is on `default`.
const addFormats = ajvFormats.default;

export type BodyValidator = (body: unknown) => void;

/** One ajv instance per app; validators are compiled once, when the app is built. */
export class BodyValidators {
  readonly #ajv: Ajv2020;
  readonly #compiled = new Map<AnySchema, ValidateFunction>();

  constructor() {
    // Endpoint schemas may be lifted from the spec's OpenAPI, which annotates with
    // `example`, `x-…` and friends; strict mode would refuse those keywords.
    this.#ajv = new Ajv2020({ strict: false, allErrors: false, useDefaults: true, coerceTypes: false });
    addFormats(this.#ajv);
  }

  /** A function that throws M_BAD_JSON when `body` does not match `schema`. */
  compile(schema: AnySchema): BodyValidator {
    let validate = this.#compiled.get(schema);
    if (validate === undefined) {
      validate = this.#ajv.compile(schema);
      this.#compiled.set(schema, validate);
    }
    const check = validate;
    return (body) => {
      if (!check(body)) throw badJson(describeError(check.errors?.[0]));
    };
  }
}

/** `/content/body` → `content.body`; array indices stay as `[0]`. */
function fieldName(instancePath: string): string {
  return instancePath
    .split('/')
    .slice(1)
    .map((part) => part.replace(/~1/g, '/').replace(/~0/g, '~'))
    .reduce((name, part) => (/^\d+$/.test(part) ? `${name}[${part}]` : name === '' ? part : `${name}.${part}`), '');
}

function describeError(error: ErrorObject | undefined): string {
  if (error === undefined) return 'Request body does not match the schema';
  const field = fieldName(error.instancePath);
  const join = (child: string): string => (field === '' ? child : `${field}.${child}`);
  switch (error.keyword) {
    case 'required':
      return `Missing required field: ${join(String((error.params as { missingProperty: string }).missingProperty))}`;
    case 'additionalProperties':
      return `Unknown field: ${join(String((error.params as { additionalProperty: string }).additionalProperty))}`;
    default:
      return field === '' ? `Request body ${error.message ?? 'is invalid'}` : `Field ${field} ${error.message ?? 'is invalid'}`;
  }
}
