import fs from 'node:fs';
import path from 'node:path';

/**
 * Writes tiny ONNX text classifiers for tests, in protobuf wire format by hand: no
 * `onnx` or protobuf package is needed, and the test owns every weight, so it knows
 * which label a token makes win. Field numbers are those of onnx/onnx.proto (IR 8).
 */

// --- protobuf wire format -------------------------------------------------------------

const VARINT = 0;
const I32 = 5;
const LEN = 2;

function varint(value: number | bigint): number[] {
  // int64 fields carry negative values as 10-byte two's complement varints.
  let v = BigInt.asUintN(64, BigInt(value));
  const out: number[] = [];
  do {
    let byte = Number(v & 0x7fn);
    v >>= 7n;
    if (v !== 0n) byte |= 0x80;
    out.push(byte);
  } while (v !== 0n);
  return out;
}

/** One protobuf message, built field by field in order. */
class Message {
  private readonly parts: Buffer[] = [];

  private key(field: number, wire: number): void {
    this.parts.push(Buffer.from(varint((field << 3) | wire)));
  }

  int(field: number, value: number | bigint): this {
    this.key(field, VARINT);
    this.parts.push(Buffer.from(varint(value)));
    return this;
  }

  float(field: number, value: number): this {
    this.key(field, I32);
    const b = Buffer.alloc(4);
    b.writeFloatLE(value);
    this.parts.push(b);
    return this;
  }

  bytes(field: number, value: Uint8Array | string): this {
    const b = typeof value === 'string' ? Buffer.from(value, 'utf8') : Buffer.from(value);
    this.key(field, LEN);
    this.parts.push(Buffer.from(varint(b.length)), b);
    return this;
  }

  message(field: number, value: Message): this {
    return this.bytes(field, value.encode());
  }

  encode(): Buffer {
    return Buffer.concat(this.parts);
  }
}

// --- ONNX messages --------------------------------------------------------------------

/** TensorProto.DataType */
const FLOAT = 1;
const INT64 = 7;

/** AttributeProto.AttributeType */
const ATTR_INT = 2;

type Dim = number | string;

function tensor(name: string, dims: number[], dataType: number, raw: Buffer): Message {
  const t = new Message();
  for (const d of dims) t.int(1, d);
  return t.int(2, dataType).bytes(8, name).bytes(9, raw);
}

function floatTensor(name: string, dims: number[], values: readonly number[]): Message {
  const expected = dims.reduce((a, b) => a * b, 1);
  if (values.length !== expected) throw new Error(`${name}: ${values.length} values for shape [${dims}]`);
  return tensor(name, dims, FLOAT, Buffer.from(Float32Array.from(values).buffer));
}

function int64Tensor(name: string, dims: number[], values: readonly number[]): Message {
  return tensor(name, dims, INT64, Buffer.from(BigInt64Array.from(values, (v) => BigInt(v)).buffer));
}

function valueInfo(name: string, elemType: number, dims: Dim[]): Message {
  const shape = new Message();
  for (const d of dims) shape.message(1, typeof d === 'number' ? new Message().int(1, d) : new Message().bytes(2, d));
  const tensorType = new Message().int(1, elemType).message(2, shape);
  return new Message().bytes(1, name).message(2, new Message().message(1, tensorType));
}

function node(opType: string, inputs: string[], outputs: string[], ints: Record<string, number> = {}): Message {
  const n = new Message();
  for (const i of inputs) n.bytes(1, i);
  for (const o of outputs) n.bytes(2, o);
  n.bytes(3, `${opType}_${outputs[0]}`).bytes(4, opType);
  for (const [name, value] of Object.entries(ints)) {
    n.message(5, new Message().bytes(1, name).int(3, value).int(20, ATTR_INT));
  }
  return n;
}

export interface BagOfWordsWeights {
  /** Row per vocabulary id, `dim` values each. */
  embeddings: number[][];
  /** `dim` rows of `labels` values. */
  projection: number[][];
  /** One per label. */
  bias: number[];
}

/**
 * A bag-of-words classifier as an ONNX model (opset 13):
 * `logits = masked_mean(embeddings[input_ids], attention_mask) · projection + bias`,
 * with inputs `input_ids` and `attention_mask` (int64 [batch, sequence]) and output
 * `logits` (float [batch, labels]), as transformers.js expects of a sequence classifier.
 */
export function bagOfWordsOnnx(weights: BagOfWordsWeights): Buffer {
  const vocab = weights.embeddings.length;
  const dim = weights.projection.length;
  const labels = weights.bias.length;
  const graph = new Message();
  const nodes = [
    node('Gather', ['embeddings', 'input_ids'], ['embedded'], { axis: 0 }),
    node('Cast', ['attention_mask'], ['mask_f'], { to: FLOAT }),
    node('Unsqueeze', ['mask_f', 'axis_last'], ['mask_3d']),
    node('Mul', ['embedded', 'mask_3d'], ['masked']),
    node('ReduceSum', ['masked', 'axis_seq'], ['summed'], { keepdims: 0 }),
    node('ReduceSum', ['mask_3d', 'axis_seq'], ['count'], { keepdims: 0 }),
    // An all-padding row would divide by zero.
    node('Max', ['count', 'one'], ['count_safe']),
    node('Div', ['summed', 'count_safe'], ['pooled']),
    node('MatMul', ['pooled', 'projection'], ['projected']),
    node('Add', ['projected', 'bias'], ['logits']),
  ];
  for (const n of nodes) graph.message(1, n);
  graph.bytes(2, 'bag_of_words');
  graph.message(5, floatTensor('embeddings', [vocab, dim], weights.embeddings.flat()));
  graph.message(5, floatTensor('projection', [dim, labels], weights.projection.flat()));
  graph.message(5, floatTensor('bias', [labels], weights.bias));
  graph.message(5, floatTensor('one', [1], [1]));
  graph.message(5, int64Tensor('axis_last', [1], [-1]));
  graph.message(5, int64Tensor('axis_seq', [1], [1]));
  graph.message(11, valueInfo('input_ids', INT64, ['batch', 'sequence']));
  graph.message(11, valueInfo('attention_mask', INT64, ['batch', 'sequence']));
  graph.message(12, valueInfo('logits', FLOAT, ['batch', labels]));
  return new Message()
    .int(1, 8) // ir_version
    .bytes(2, 'custos-test')
    .message(7, graph)
    .message(8, new Message().bytes(1, '').int(2, 13))
    .encode();
}

// --- a transformers.js model folder ---------------------------------------------------

export interface TinyClassifierOptions {
  /** Model labels in id order, e.g. ['neutral', 'spam', 'threat']. */
  labels: string[];
  /** Words that push one label: word → label name. Other words are neutral. */
  triggers: Record<string, string>;
  /** Neutral words also known to the vocabulary. */
  words?: string[];
  problemType?: 'multi_label_classification' | 'single_label_classification';
  /** Logit a trigger adds to its label, before mean pooling over the tokens. */
  strength?: number;
}

const SPECIAL = ['[PAD]', '[UNK]', '[CLS]', '[SEP]'] as const;

/**
 * Writes a complete transformers.js model folder: config.json (id2label, label2id,
 * problem_type), a WordPiece tokenizer.json with BERT pre-processing and
 * [CLS]/[SEP] post-processing, tokenizer_config.json and onnx/model.onnx. Every label
 * starts at logit -4; a trigger word adds `strength` to its label (divided by the
 * token count, [CLS] and [SEP] included, by the mean pooling).
 */
export function writeTinyTextClassifier(dir: string, options: TinyClassifierOptions): void {
  const { labels, triggers } = options;
  const strength = options.strength ?? 40;
  const vocabList = [...SPECIAL, ...Object.keys(triggers), ...(options.words ?? [])];
  const vocab = Object.fromEntries(vocabList.map((w, i) => [w, i]));
  const embeddings = vocabList.map((w) => {
    const row = labels.map(() => 0);
    const label = triggers[w];
    if (label !== undefined) {
      const at = labels.indexOf(label);
      if (at < 0) throw new Error(`trigger ${w} names unknown label ${label}`);
      row[at] = strength;
    }
    return row;
  });
  const projection = labels.map((_, i) => labels.map((__, j) => (i === j ? 1 : 0)));
  const onnx = bagOfWordsOnnx({ embeddings, projection, bias: labels.map(() => -4) });

  fs.mkdirSync(path.join(dir, 'onnx'), { recursive: true });
  fs.writeFileSync(path.join(dir, 'onnx', 'model.onnx'), onnx);
  const json = (file: string, value: unknown) =>
    fs.writeFileSync(path.join(dir, file), `${JSON.stringify(value, null, 2)}\n`);
  json('config.json', {
    model_type: 'bert',
    architectures: ['BertForSequenceClassification'],
    problem_type: options.problemType ?? 'multi_label_classification',
    id2label: Object.fromEntries(labels.map((l, i) => [String(i), l])),
    label2id: Object.fromEntries(labels.map((l, i) => [l, i])),
    vocab_size: vocabList.length,
    max_position_embeddings: 512,
  });
  json('tokenizer_config.json', {
    tokenizer_class: 'BertTokenizer',
    do_lower_case: true,
    model_max_length: 512,
    cls_token: '[CLS]',
    sep_token: '[SEP]',
    pad_token: '[PAD]',
    unk_token: '[UNK]',
    model_input_names: ['input_ids', 'attention_mask'],
  });
  json('tokenizer.json', {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: SPECIAL.map((content, id) => ({
      id,
      content,
      single_word: false,
      lstrip: false,
      rstrip: false,
      normalized: false,
      special: true,
    })),
    normalizer: {
      type: 'BertNormalizer',
      clean_text: true,
      handle_chinese_chars: true,
      strip_accents: null,
      lowercase: true,
    },
    pre_tokenizer: { type: 'BertPreTokenizer' },
    post_processor: {
      type: 'TemplateProcessing',
      single: [
        { SpecialToken: { id: '[CLS]', type_id: 0 } },
        { Sequence: { id: 'A', type_id: 0 } },
        { SpecialToken: { id: '[SEP]', type_id: 0 } },
      ],
      pair: [
        { SpecialToken: { id: '[CLS]', type_id: 0 } },
        { Sequence: { id: 'A', type_id: 0 } },
        { SpecialToken: { id: '[SEP]', type_id: 0 } },
        { Sequence: { id: 'B', type_id: 1 } },
        { SpecialToken: { id: '[SEP]', type_id: 1 } },
      ],
      special_tokens: {
        '[CLS]': { id: '[CLS]', ids: [2], tokens: ['[CLS]'] },
        '[SEP]': { id: '[SEP]', ids: [3], tokens: ['[SEP]'] },
      },
    },
    decoder: { type: 'WordPiece', prefix: '##', cleanup: true },
    model: {
      type: 'WordPiece',
      unk_token: '[UNK]',
      continuing_subword_prefix: '##',
      max_input_chars_per_word: 100,
      vocab,
    },
  });
}
