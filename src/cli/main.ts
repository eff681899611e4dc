/** The `sparsecast` command: dispatch to subcommands. */
import { trainCommand } from './train-command.ts';
import { evalCommand, predictCommand } from './eval-command.ts';
import { sweepCommand } from './sweep-command.ts';
import { reportCommand } from './report-command.ts';
import { exportCommand } from './export-command.ts';
import { benchCommand } from './bench-command.ts';

const USAGE = `usage: sparsecast <command> [flags]

commands:
  train   --data PATH [--model Transformer] [--preset small|full] [--seq_len 96 --label_len 48 --pred_len 96]
          [--features M|S|MS --target OT --freq h --data_kind auto|ETTh|ETTm|custom]
          [--d_model --n_heads --e_layers --d_layers --d_ff --dropout --factor --moving_avg --activation gelu|relu]
          [--distil (turns Informer's distilling off, as TSLib) --modes 32 --mode_select random|low --p_hidden_dims 128,128 --p_hidden_layers 2]
          [--train_epochs 10 --patience 3 --batch_size 32 --learning_rate 1e-4 --lradj type1|type2]
          [--seed 2020 --backend wasm|js|webgpu --threads 1 --out DIR --max_train_batches N --no_epoch_test --checkpoint_every 100 --resume]
          [--method dense|pals|granet|rigl|set|static --lambda 1.1 --gamma 1.1 --update_freq 20 --s_min 0.2 --s_max 0.9
           --init_density 1 --final_density 0.1 --density 0.2 --zeta 0.5 --growth gradient|random|momentum
           --density_init uniform|erk --no_expand --val_batches N]
  eval    --checkpoint DIR [--backend --threads N]  re-score the run's model on its test split (same JSON line)
  sweep   <train flags> --grid lambda=1.05,1.1,1.2 gamma=1.05,1.1,1.2 --select loss|sparsity [--jobs N] --out DIR
  sweep   <train flags> --grid … [--data A,B --pred_len 96,192 --seed … --method … --model …] --queue redis://HOST:PORT/DB --name NAME
          enqueue the runs for workers;  --queue URL --name NAME --status | --collect --out DIR [--wait]
  worker  --queue redis://HOST:PORT/DB [--concurrency 1 --threads N --artifacts DIR --lock_ms 30000 --name HOST:PID]
  predict --checkpoint DIR --data PATH [--out forecast.csv]   forecast pred_len steps after the file's end
  report  --out DIR                     one self-contained HTML page, DIR/report.html, from a train run's --out folder
  export  --checkpoint DIR --out model.sc [--csr_threshold 0.5]  one model file for sparsecast/infer (CSR below the density)
  bench   sparsity [--json --preset small|full|all --runs 5 --svg sparsity.svg --threads N]   CSR vs dense-masked GEMM by density
          sparsity --train [--preset small|full --density 0.1 --batch 32]      training step / inference, dense vs CSR
`;

export async function main(argv: string[]): Promise<void> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'train':
      return trainCommand(rest);
    case 'eval':
      return evalCommand(rest);
    case 'predict':
      return predictCommand(rest);
    case 'sweep':
      return sweepCommand(rest);
    case 'report':
      return reportCommand(rest);
    case 'export':
      return exportCommand(rest);
    case 'bench':
      return benchCommand(rest);
    case 'worker':
      // Loaded on demand: BullMQ and ioredis are only needed by the queue commands.
      return (await import('./worker-command.ts')).workerCommand(rest);
    case undefined:
    case 'help':
    case '--help':
      process.stdout.write(USAGE);
      return;
    default:
      throw new Error(`sparsecast: unknown command '${command}'\n${USAGE}`);
  }
}
