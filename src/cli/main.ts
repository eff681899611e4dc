/** The `sparsecast` command: dispatch to subcommands. */
import { trainCommand } from './train-command.ts';

const USAGE = `usage: sparsecast <command> [flags]

commands:
  train   --data PATH [--model Transformer] [--preset small|full] [--seq_len 96 --label_len 48 --pred_len 96]
          [--features M|S|MS --target OT --freq h --data_kind auto|ETTh|ETTm|custom]
          [--d_model --n_heads --e_layers --d_layers --d_ff --dropout --factor --moving_avg]
          [--train_epochs 10 --patience 3 --batch_size 32 --learning_rate 1e-4 --lradj type1|type2]
          [--seed 2020 --backend wasm|js|webgpu --out DIR --max_train_batches N --checkpoint_every 100 --resume]
`;

export async function main(argv: string[]): Promise<void> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'train':
      return trainCommand(rest);
    case undefined:
    case 'help':
    case '--help':
      process.stdout.write(USAGE);
      return;
    default:
      throw new Error(`sparsecast: unknown command '${command}'\n${USAGE}`);
  }
}
