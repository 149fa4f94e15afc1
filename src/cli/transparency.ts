import { Command, Option } from 'commander';
import { parseReportRange } from '../transparency/range.js';
import { computeRequestFigures, figuresCsv, publishFigures } from '../transparency/requests.js';
import { withContext } from './run-command.js';

/** `custos transparency`: the request figures per country and quarter, as published (or exact). */
export function transparencyCommand(): Command {
  return new Command('transparency')
    .description('Legal-order figures per country and quarter, as the public endpoint publishes them')
    .option('--country <CC>', 'ISO country of the authorities (default: all)')
    .option('--from <YYYY-MM-DD>', 'first day (default: the start of the quarter a year ago)')
    .option('--to <YYYY-MM-DD>', 'last day, included (default: today)')
    .addOption(new Option('--format <format>', 'output').choices(['json', 'csv']).default('json'))
    .option('--exact', 'exact counts, without publishing small ones as a range (for the operator only)')
    .action(async (opts: { country?: string; from?: string; to?: string; format: 'json' | 'csv'; exact?: boolean }) => {
      await withContext(async (ctx) => {
        const range = parseReportRange({ country: opts.country, from: opts.from, to: opts.to });
        const figures = publishFigures(
          await computeRequestFigures(ctx.store.reads, range),
          opts.exact ? 1 : ctx.config.transparencyMinCount,
        );
        process.stdout.write(opts.format === 'csv' ? figuresCsv(figures) : `${JSON.stringify(figures, null, 2)}\n`);
      });
    });
}
