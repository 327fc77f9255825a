// The TensorFlow.js half of the interoperability test (interop.cpp is the other half):
//   node roundtrip.js DIR
// 1. Loads DIR/normlab_model, which normlab trained and saved, with tf.loadLayersModel and
//    predicts DIR/normlab_predictions.json's x: the outputs must be normlab's y within 1e-5.
//    The same for DIR/normlab_folded_model, the model with its BatchNormalization folded into
//    the Dense before it (normlab export --fold-bn), which must hold no BatchNormalization.
// 2. Builds Dense(8) -> BatchNormalization -> ReLU -> Dense(1, sigmoid) in TensorFlow.js
//    (its default initializers), trains it with model.fit so that the moving statistics move,
//    and saves it as DIR/tfjs_model (model.json + weights.bin, as tfjs-node's file:// handler
//    writes them, optimizer included) with its predictions in DIR/tfjs_predictions.json.
// Pure JavaScript (@tensorflow/tfjs, no native binding); the files are read and written here.
'use strict';

const fs = require('fs');
const path = require('path');
const tf = require('@tensorflow/tfjs');

const TOLERANCE = 1e-5;

// Reads model.json and its weight files from a directory.
function fileLoader(dir) {
  return {
    load: async () => {
      const modelJSON = JSON.parse(fs.readFileSync(path.join(dir, 'model.json'), 'utf8'));
      return tf.io.getModelArtifactsForJSON(modelJSON, async (manifest) => {
        const specs = [];
        const buffers = [];
        for (const group of manifest) {
          specs.push(...group.weights);
          for (const file of group.paths) buffers.push(fs.readFileSync(path.join(dir, file)));
        }
        const all = Buffer.concat(buffers);
        return [specs, all.buffer.slice(all.byteOffset, all.byteOffset + all.byteLength)];
      });
    },
  };
}

// Writes model.json and weights.bin into a directory.
function fileSaver(dir) {
  return tf.io.withSaveHandler(async (artifacts) => {
    fs.mkdirSync(dir, {recursive: true});
    const weights = new tf.io.CompositeArrayBuffer(artifacts.weightData).slice();
    fs.writeFileSync(path.join(dir, 'weights.bin'), Buffer.from(weights));
    const modelJSON = {
      modelTopology: artifacts.modelTopology,
      format: artifacts.format,
      generatedBy: artifacts.generatedBy,
      convertedBy: artifacts.convertedBy,
      weightsManifest: [{paths: ['weights.bin'], weights: artifacts.weightSpecs}],
    };
    if (artifacts.trainingConfig != null) modelJSON.trainingConfig = artifacts.trainingConfig;
    fs.writeFileSync(path.join(dir, 'model.json'), JSON.stringify(modelJSON));
    return {modelArtifactsInfo: tf.io.getModelArtifactsInfoForJSON(modelJSON)};
  });
}

function maxAbsDifference(a, b) {
  let max = 0;
  a.forEach((row, i) => row.forEach((v, j) => {
    max = Math.max(max, Math.abs(v - b[i][j]));
  }));
  return max;
}

function fail(message) {
  console.error(`FAIL: ${message}`);
  process.exitCode = 1;
}

// Rows of a seeded uniform generator (mulberry32) around 0.5, labelled by x0 + x1 > 1.
function makeData(rows, seed) {
  let state = seed >>> 0;
  const uniform = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const x = [];
  const y = [];
  for (let r = 0; r < rows; ++r) {
    const row = [];
    for (let c = 0; c < 5; ++c) row.push(2 * uniform() - 0.5);
    x.push(row);
    y.push([row[0] + row[1] > 1 ? 1 : 0]);
  }
  return {x, y};
}

// Loads DIR/name and checks its predictions against normlab's; returns the model.
async function loadAndPredict(dir, name) {
  const model = await tf.loadLayersModel(fileLoader(path.join(dir, name)));
  const expected = JSON.parse(fs.readFileSync(path.join(dir, 'normlab_predictions.json'), 'utf8'));
  const predicted = model.predict(tf.tensor2d(expected.x)).arraySync();
  const diff = maxAbsDifference(predicted, expected.y);
  console.log(`TensorFlow.js on ${name}: max |difference| ${diff.toPrecision(3)} ` +
              `over ${predicted.length} predictions`);
  if (!(diff <= TOLERANCE)) fail(`${name}: more than ${TOLERANCE}`);
  return model;
}

async function loadNormlabModel(dir) {
  const model = await loadAndPredict(dir, 'normlab_model');
  const movingMean = model.getLayer('batch_normalization').getWeights()[2].arraySync();
  if (movingMean.every((v) => v === 0)) fail('the moving mean read back as zeros');
  if (model.optimizer == null) fail('normlab\'s trainingConfig did not compile the model');
  const metadata = model.getUserDefinedMetadata();
  if (metadata == null || metadata.normlab == null || metadata.normlab.version == null) {
    fail('userDefinedMetadata.normlab.version is missing');
  }
  const folded = await loadAndPredict(dir, 'normlab_folded_model');
  if (folded.layers.some((layer) => layer.getClassName() === 'BatchNormalization')) {
    fail('normlab_folded_model still holds a BatchNormalization layer');
  }
}

async function saveTfjsModel(dir) {
  const model = tf.sequential();
  model.add(tf.layers.dense({units: 8, inputShape: [5]}));
  model.add(tf.layers.batchNormalization({momentum: 0.9}));
  model.add(tf.layers.activation({activation: 'relu'}));
  model.add(tf.layers.dense({units: 1, activation: 'sigmoid'}));
  model.compile({optimizer: tf.train.adam(0.01), loss: 'binaryCrossentropy',
                 metrics: ['accuracy']});
  const train = makeData(48, 1);
  await model.fit(tf.tensor2d(train.x), tf.tensor2d(train.y),
                  {batchSize: 16, epochs: 4, shuffle: false, verbose: 0});
  await model.save(fileSaver(path.join(dir, 'tfjs_model')), {includeOptimizer: true});
  const evalData = makeData(16, 2);
  const predicted = model.predict(tf.tensor2d(evalData.x)).arraySync();
  fs.writeFileSync(path.join(dir, 'tfjs_predictions.json'),
                   JSON.stringify({x: evalData.x, y: predicted}));
  console.log(`TensorFlow.js: saved ${path.join(dir, 'tfjs_model')}`);
}

async function main() {
  const dir = process.argv[2];
  if (!dir) throw new Error('usage: node roundtrip.js DIR');
  await loadNormlabModel(dir);
  await saveTfjsModel(dir);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
