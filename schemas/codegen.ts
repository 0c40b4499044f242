/**
 * Generates TypeScript types from the Avro schemas in this folder: the .avsc files are the
 * source of truth, schemas/generated/*.ts follow them. `--check` fails when a generated
 * file is stale or missing (CI runs it through `npm run check`).
 *
 *   npm run schemas:gen     regenerate
 *   npm run schemas:check   verify
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';

type Avro = string | Avro[] | { [key: string]: unknown };

interface Emitted {
  readonly decls: string[];
  readonly seen: Set<string>;
}

const PRIMITIVES: Record<string, string> = {
  null: 'null',
  boolean: 'boolean',
  int: 'number',
  long: 'number',
  float: 'number',
  double: 'number',
  bytes: 'Buffer',
  string: 'string',
};

function shortName(name: string): string {
  return name.includes('.') ? name.slice(name.lastIndexOf('.') + 1) : name;
}

function doc(text: unknown, indent = ''): string {
  return typeof text === 'string' ? `${indent}/** ${text.replaceAll('*/', '*\\/')} */\n` : '';
}

function tsType(schema: Avro, out: Emitted): string {
  if (typeof schema === 'string') return PRIMITIVES[schema] ?? shortName(schema);
  if (Array.isArray(schema)) return schema.map((s) => tsType(s, out)).join(' | ');
  const type = schema['type'];
  if (typeof type === 'string' && PRIMITIVES[type] && schema['fields'] === undefined) return PRIMITIVES[type];
  switch (type) {
    case 'array':
      return `Array<${tsType(schema['items'] as Avro, out)}>`;
    case 'map':
      return `Record<string, ${tsType(schema['values'] as Avro, out)}>`;
    case 'enum': {
      const name = shortName(String(schema['name']));
      if (!out.seen.has(name)) {
        out.seen.add(name);
        const symbols = schema['symbols'] as string[];
        out.decls.push(
          `${doc(schema['doc'])}export const ${name}Values = ${JSON.stringify(symbols)} as const;\n` +
            `export type ${name} = (typeof ${name}Values)[number];\n`,
        );
      }
      return name;
    }
    case 'record': {
      const name = shortName(String(schema['name']));
      if (!out.seen.has(name)) {
        out.seen.add(name);
        const index = out.decls.length;
        out.decls.push('');
        const fields = (schema['fields'] as Array<{ name: string; type: Avro; doc?: string }>).map(
          (f) => `${doc(f.doc, '  ')}  ${f.name}: ${tsType(f.type, out)};`,
        );
        out.decls[index] = `${doc(schema['doc'])}export interface ${name} {\n${fields.join('\n')}\n}\n`;
      }
      return name;
    }
    case 'fixed':
      return 'Buffer';
    default:
      if (typeof type === 'object' && type !== null) return tsType(type as Avro, out);
      throw new Error(`unsupported Avro type ${JSON.stringify(type)}`);
  }
}

export function generate(avscFile: string): string {
  const schema = JSON.parse(readFileSync(avscFile, 'utf8')) as Avro;
  const out: Emitted = { decls: [], seen: new Set() };
  tsType(schema, out);
  const header =
    `// Generated from schemas/${basename(avscFile)} by schemas/codegen.ts. DO NOT EDIT.\n` +
    '// Change the .avsc file and run `npm run schemas:gen`; `npm run schemas:check` fails when this is stale.\n\n';
  const schemaConst = `export const schema = ${JSON.stringify(schema)} as const;\n`;
  return `${header}${out.decls.join('\n')}\n${schemaConst}`;
}

function main(): number {
  const dir = import.meta.dirname;
  const outDir = join(dir, 'generated');
  const check = process.argv.includes('--check');
  const stale: string[] = [];
  const files = readdirSync(dir).filter((f) => f.endsWith('.avsc'));
  if (!check) mkdirSync(outDir, { recursive: true });
  for (const file of files) {
    const target = join(outDir, file.replace(/\.avsc$/, '.ts'));
    const text = generate(join(dir, file));
    if (check) {
      if (!existsSync(target) || readFileSync(target, 'utf8') !== text) stale.push(target);
    } else {
      writeFileSync(target, text);
    }
  }
  if (check && stale.length > 0) {
    console.error(`stale generated types (run \`npm run schemas:gen\`):\n  ${stale.join('\n  ')}`);
    return 1;
  }
  console.log(
    check
      ? `schemas: ${files.length} generated files are up to date`
      : `schemas: generated ${files.length} files`,
  );
  return 0;
}

if (process.argv[1] && import.meta.filename === process.argv[1]) process.exit(main());
