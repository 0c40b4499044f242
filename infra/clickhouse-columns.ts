/**
 * Column lists for ClickHouse inserts column by column (infra/clickhouse.ts insertColumns), in a
 * module of their own with no imports, so the pure row-shaping modules can use them.
 */

/**
 * A row type's column list for insertColumns, checked complete at compile time: a key of `Row`
 * missing from the list is a type error that names it, so a new column can never be silently
 * left to its default. `columnsOf<SessionRow>()(['summary_id', ...])`.
 */
export function columnsOf<Row extends object>() {
  return <const C extends readonly [keyof Row & string, ...Array<keyof Row & string>]>(
    columns: C &
      ([Exclude<keyof Row, C[number]>] extends [never]
        ? unknown
        : { readonly missingColumns: Exclude<keyof Row, C[number]> }),
  ): C => columns;
}
