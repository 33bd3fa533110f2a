import Ajv2020 from 'ajv/dist/2020.js'
import addFormats from 'ajv-formats'

// Both packages are CommonJS with the class (plugin) on `default`: that is what NodeNext types give.
export type Ajv = InstanceType<typeof Ajv2020.default>

/**
 * A JSON Schema 2020-12 validator (the dialect of OpenAPI 3.1), independent of our converter: strict
 * (an unknown keyword or format in a schema is an error, not ignored), with the standard formats.
 */
export function newAjv(): Ajv {
  const ajv = new Ajv2020.default({ strict: true, allErrors: true })
  addFormats.default(ajv)
  return ajv
}

/** `value`'s errors against `schema` (empty: valid), one line each. */
export function schemaErrors(ajv: Ajv, schema: object, value: unknown): string[] {
  const validate = ajv.compile(schema)
  if (validate(value)) return []
  return (validate.errors ?? []).map((e) => `${e.instancePath || '(root)'} ${e.message ?? e.keyword}`)
}
