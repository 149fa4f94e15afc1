import type { Compilable, CompiledQuery, QueryResult } from 'kysely';
import type { Db, Tx } from './database.js';

/** Marks a parameter's place in a query compiled with stand-in values. */
const MARK = '\u0000custos-param:';

type Slot = { param: string } | { value: unknown };

interface Template {
  compiled: CompiledQuery;
  slots: Slot[];
}

/**
 * A query of the hot paths, built and compiled by Kysely once per dialect and
 * then run with fresh values. Kysely rebuilds and recompiles a query on every
 * call (immutable builder nodes, then a visitor over them): for a report, which
 * runs about ten small statements, that was a fifth of its CPU time. `build`
 * receives the parameters (named up front) as stand-ins; every stand-in must reach the query as a
 * plain value (a `where`, a `values` column, a `set`), never be computed with —
 * a query whose text would depend on a value cannot be prepared and is refused
 * at its first run.
 */
export class PreparedQuery<P extends Record<string, unknown>, R> {
  readonly #templates = new Map<unknown, Template>();

  constructor(
    private readonly names: readonly (keyof P & string)[],
    private readonly build: (db: Db | Tx, params: P) => Compilable<R>,
  ) {}

  async execute(db: Db | Tx, params: P): Promise<QueryResult<R>> {
    const template = this.#template(db);
    const parameters = template.slots.map((slot) =>
      'param' in slot ? (params as Record<string, unknown>)[slot.param] : slot.value,
    );
    return db.executeQuery<R>({ ...template.compiled, parameters } as CompiledQuery<R>);
  }

  async rows(db: Db | Tx, params: P): Promise<R[]> {
    return (await this.execute(db, params)).rows;
  }

  async first(db: Db | Tx, params: P): Promise<R | undefined> {
    return (await this.execute(db, params)).rows[0];
  }

  #template(db: Db | Tx): Template {
    // One compiled form per dialect: the adapter says which (SQLite and PostgreSQL differ in placeholders and locks).
    const adapter = db.getExecutor().adapter.constructor;
    let template = this.#templates.get(adapter);
    if (!template) {
      // A real object (so `values(params)` sees its columns) that refuses names it was not given.
      const target = Object.fromEntries(this.names.map((name) => [name, `${MARK}${name}`]));
      const stand = new Proxy(target, {
        get: (t, name) => {
          if (typeof name === 'string' && !Object.hasOwn(t, name))
            throw new Error(`prepared query: no parameter ${name}`);
          return Reflect.get(t, name);
        },
      }) as unknown as P;
      const compiled = this.build(db, stand).compile();
      const slots = compiled.parameters.map((value): Slot => {
        if (typeof value === 'string' && value.startsWith(MARK)) return { param: value.slice(MARK.length) };
        return { value };
      });
      if (compiled.sql.includes(MARK))
        throw new Error(`a parameter of a prepared query became SQL text: ${compiled.sql}`);
      template = { compiled, slots };
      this.#templates.set(adapter, template);
    }
    return template;
  }
}

/** `prepared(['id', 'name'], (db, p) => db.selectFrom('t').selectAll().where('id', '=', p.id))` */
export function prepared<P extends Record<string, unknown>, R>(
  names: readonly (keyof P & string)[],
  build: (db: Db | Tx, params: P) => Compilable<R>,
): PreparedQuery<P, R> {
  return new PreparedQuery(names, build);
}
