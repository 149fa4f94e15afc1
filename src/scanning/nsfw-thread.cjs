'use strict';
/**
 * The thread that runs the NSFWJS image classifier for nsfw-scanner.ts. Plain
 * CommonJS, so the thread needs no TypeScript loader, and so that it can require
 * the CommonJS builds of TensorFlow.js and nsfwjs: only this thread ever loads them.
 *
 * workerData: `{ resolveFrom, model: { name, dir, size, graph } }`. The thread
 * answers once with `{ type: 'ready', version, packageVersion, backend, loadMs }`
 * or `{ type: 'failed', code, subject, problem }`, then each `{ id, pixels, size }`
 * (RGB bytes, size × size × 3) with `{ id, scores }` or `{ id, error }`.
 */
const { createHash } = require('node:crypto');
const fs = require('node:fs');
const { createRequire } = require('node:module');
const path = require('node:path');
const { parentPort, workerData } = require('node:worker_threads');

/** The model's output classes, in the order of its outputs (nsfwjs's NSFW_CLASSES). */
const CLASSES = ['Drawing', 'Hentai', 'Neutral', 'Porn', 'Sexy'];

class Failure extends Error {
  constructor(code, subject, problem) {
    super(problem);
    this.code = code;
    this.subject = subject;
  }
}

function requireOptional(load, name) {
  try {
    return load(name);
  } catch (error) {
    // Only the package itself counts as not installed: a missing dependency of it
    // is named in the message of the second case.
    const message = error instanceof Error ? error.message : String(error);
    const notInstalled = error && error.code === 'MODULE_NOT_FOUND' && message.includes(`'${name}'`);
    throw new Failure(
      'runtime_missing',
      name,
      notInstalled ? 'not_installed' : `is installed but cannot be loaded (${message.split('\n')[0]})`,
    );
  }
}

/**
 * Reads the bundled model. nsfwjs ships each model as UMD scripts under
 * dist/models/<dir>/: model.min.js (the model.json) and one script per weight
 * shard holding its bytes in base64. They are required here directly, not through
 * nsfwjs's CommonJS model definitions: those wrap each module in TypeScript's
 * __importStar, which defines a property per character of the 3.5-30 MB base64
 * string (14 s and 400 MB for MobileNetV2, minutes for InceptionV3).
 */
function readModel(load, model) {
  const packageDir = path.resolve(path.dirname(load.resolve('nsfwjs')), '..', '..');
  const modelDir = path.join(packageDir, 'dist', 'models', model.dir);
  const hash = createHash('sha256');
  const read = (file) => {
    const full = path.join(modelDir, file);
    if (!fs.existsSync(full)) {
      throw new Failure('model_corrupt', model.name, `nsfwjs lacks dist/models/${model.dir}/${file}`);
    }
    hash.update(`${file}\0`);
    hash.update(fs.readFileSync(full));
    const value = load(full);
    // The module cache would keep the base64 text alive as long as the thread.
    delete load.cache[full];
    return value;
  };
  const json = read('model.min.js');
  if (!json || !Array.isArray(json.weightsManifest)) {
    throw new Failure('model_corrupt', model.name, `dist/models/${model.dir}/model.min.js holds no weightsManifest`);
  }
  const shards = [];
  for (const group of json.weightsManifest) {
    for (const shard of group.paths) {
      const base64 = read(`${shard}.min.js`);
      if (typeof base64 !== 'string') {
        throw new Failure('model_corrupt', model.name, `dist/models/${model.dir}/${shard}.min.js holds no weights`);
      }
      shards.push(Buffer.from(base64, 'base64'));
    }
  }
  let weights = Buffer.concat(shards);
  let packageVersion = 'unknown';
  try {
    packageVersion = JSON.parse(fs.readFileSync(path.join(packageDir, 'package.json'), 'utf8')).version;
  } catch {}
  return {
    version: `sha256:${hash.digest('hex')}`,
    packageVersion,
    // A TensorFlow.js IOHandler over the bytes in memory: nothing is fetched. It
    // hands the bytes over once: nsfwjs keeps the handler, and tfjs has its own copy.
    handler: {
      load: async () => {
        if (!weights) throw new Error('the weights were already loaded');
        const data = weights.buffer.slice(weights.byteOffset, weights.byteOffset + weights.byteLength);
        weights = undefined;
        return {
          modelTopology: json.modelTopology,
          format: json.format,
          generatedBy: json.generatedBy,
          convertedBy: json.convertedBy,
          weightSpecs: json.weightsManifest.flatMap((group) => group.weights),
          weightData: data,
        };
      },
    },
  };
}

async function start() {
  const started = performance.now();
  const load = createRequire(workerData.resolveFrom);
  const tf = requireOptional(load, '@tensorflow/tfjs');
  const wasm = requireOptional(load, '@tensorflow/tfjs-backend-wasm');
  const nsfwjs = requireOptional(load, 'nsfwjs');
  const { model } = workerData;
  const files = readModel(load, model);
  try {
    tf.enableProdMode();
    // The .wasm binaries sit beside the package's main script; as a file path,
    // Emscripten reads them with fs instead of fetching them.
    wasm.setWasmPaths(path.dirname(load.resolve('@tensorflow/tfjs-backend-wasm')) + path.sep);
    if (!(await tf.setBackend('wasm'))) throw new Error('the wasm backend did not start');
  } catch (error) {
    throw new Failure('runtime_missing', '@tensorflow/tfjs-backend-wasm', `does not start (${messageOf(error)})`);
  }
  let classifier;
  try {
    // A handler, not a model name: nsfwjs's own name lookup first reads `globalThis.model`.
    classifier = await nsfwjs.load(files.handler, { size: model.size, type: model.graph ? 'graph' : undefined });
  } catch (error) {
    throw new Failure('model_corrupt', model.name, `cannot be loaded (${messageOf(error)})`);
  }
  return {
    tf,
    classifier,
    ready: {
      type: 'ready',
      version: files.version,
      packageVersion: files.packageVersion,
      backend: tf.getBackend(),
      loadMs: Math.round(performance.now() - started),
    },
  };
}

async function classify(tf, classifier, message) {
  const image = tf.tensor3d(message.pixels, [message.size, message.size, 3], 'int32');
  try {
    const predictions = await classifier.classify(image, CLASSES.length);
    const scores = {};
    for (const name of CLASSES) scores[name] = 0;
    for (const p of predictions) scores[p.className] = p.probability;
    return scores;
  } finally {
    image.dispose();
  }
}

function messageOf(error) {
  return error instanceof Error ? error.message : String(error);
}

start().then(
  ({ tf, classifier, ready }) => {
    // One picture at a time, in the order sent, even if the sender does not wait.
    let chain = Promise.resolve();
    parentPort.on('message', (message) => {
      chain = chain.then(() =>
        classify(tf, classifier, message).then(
          (scores) => parentPort.postMessage({ id: message.id, scores }),
          (error) => parentPort.postMessage({ id: message.id, error: messageOf(error) }),
        ),
      );
    });
    parentPort.postMessage(ready);
  },
  (error) => {
    const failure =
      error instanceof Failure ? error : new Failure('model_corrupt', workerData.model.name, messageOf(error));
    parentPort.postMessage({ type: 'failed', code: failure.code, subject: failure.subject, problem: failure.message });
  },
);
