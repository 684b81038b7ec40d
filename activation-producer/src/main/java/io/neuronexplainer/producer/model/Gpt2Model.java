package io.neuronexplainer.producer.model;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.ndarray.types.SparseFormat;
import ai.djl.nn.Activation;
import ai.djl.nn.core.Embedding;
import ai.djl.nn.core.Linear;
import ai.djl.nn.norm.LayerNorm;
import ai.djl.pytorch.jni.JniUtils;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.function.BiFunction;

/**
 * GPT-2's forward pass written with DJL NDArray ops on the PyTorch engine, returning the
 * post-{@code gelu_new} MLP activations (the neurons) of the requested layers. Windows are run as
 * one batch; the pass stops after the last requested layer unless the final hidden state is asked for.
 */
public final class Gpt2Model implements ActivationModel {
    private static final String ENGINE = "PyTorch";
    /** gelu_new(x) = 0.5x(1 + tanh(z)) = x * sigmoid(2z), z = sqrt(2/pi)(x + 0.044715x^3). */
    private static final float GELU_LINEAR = (float) (2 * Math.sqrt(2 / Math.PI));
    private static final float GELU_CUBIC = (float) (2 * Math.sqrt(2 / Math.PI) * 0.044715);

    /** One transformer block's weights; Conv1D weights are stored [in, out] and passed to linear() transposed. */
    private record Block(NDArray ln1Weight, NDArray ln1Bias, NDArray qkvWeight, NDArray qkvBias,
                         NDArray attnProjWeight, NDArray attnProjBias, NDArray ln2Weight, NDArray ln2Bias,
                         NDArray fcWeight, NDArray fcBias, NDArray mlpProjWeight, NDArray mlpProjBias) {}

    /** The captured activations ({@code mlp[i]} for {@code layers[i]}, [window][token][neuron]) and, if asked, the final hidden state after ln_f ([window][token][d]). */
    public record Outputs(float[][] mlp, float[] finalHidden) {}

    private final Gpt2Config config;
    private final NDManager manager;
    private final NDArray tokenEmbedding;
    private final NDArray positionEmbedding;
    private final Block[] blocks;
    private final NDArray finalNormWeight;
    private final NDArray finalNormBias;
    /** 0 on and below the diagonal, -inf above: added to the attention scores. */
    private final NDArray causalMask;

    private Gpt2Model(Gpt2Config config, NDManager manager, BiFunction<String, Shape, NDArray> weights) {
        this.config = config;
        this.manager = manager;
        this.tokenEmbedding = weights.apply("wte.weight", new Shape(config.vocabSize(), config.embedding()));
        this.positionEmbedding = weights.apply("wpe.weight", new Shape(config.positions(), config.embedding()));
        this.blocks = new Block[config.layers()];
        long d = config.embedding();
        long inner = config.inner();
        for (int i = 0; i < blocks.length; i++) {
            String h = "h." + i + ".";
            // The attention scale is folded into the query columns once, instead of scaling every score.
            double scale = (config.scaleAttentionWeights() ? 1 / Math.sqrt(config.headSize()) : 1.0)
                    / (config.scaleAttentionByInverseLayer() ? i + 1 : 1);
            float[] columnScale = new float[(int) (3 * d)];
            Arrays.fill(columnScale, 0, (int) d, (float) scale);
            Arrays.fill(columnScale, (int) d, columnScale.length, 1f);
            NDArray qkvScale = manager.create(columnScale);
            NDArray qkvWeight = weights.apply(h + "attn.c_attn.weight", new Shape(d, 3 * d));
            NDArray qkvBias = weights.apply(h + "attn.c_attn.bias", new Shape(3 * d));
            blocks[i] = new Block(
                    weights.apply(h + "ln_1.weight", new Shape(d)),
                    weights.apply(h + "ln_1.bias", new Shape(d)),
                    transposed(qkvWeight.muli(qkvScale)),
                    qkvBias.muli(qkvScale),
                    transposed(weights.apply(h + "attn.c_proj.weight", new Shape(d, d))),
                    weights.apply(h + "attn.c_proj.bias", new Shape(d)),
                    weights.apply(h + "ln_2.weight", new Shape(d)),
                    weights.apply(h + "ln_2.bias", new Shape(d)),
                    transposed(weights.apply(h + "mlp.c_fc.weight", new Shape(d, inner))),
                    weights.apply(h + "mlp.c_fc.bias", new Shape(inner)),
                    transposed(weights.apply(h + "mlp.c_proj.weight", new Shape(inner, d))),
                    weights.apply(h + "mlp.c_proj.bias", new Shape(d)));
            qkvScale.close();
        }
        this.finalNormWeight = weights.apply("ln_f.weight", new Shape(d));
        this.finalNormBias = weights.apply("ln_f.bias", new Shape(d));
        int p = config.positions();
        float[] mask = new float[p * p];
        for (int row = 0; row < p; row++) {
            Arrays.fill(mask, row * p + row + 1, row * p + p, Float.NEGATIVE_INFINITY);
        }
        this.causalMask = manager.create(mask, new Shape(p, p));
    }

    /** Loads a HuggingFace GPT-2 folder: {@code config.json} + {@code model.safetensors} or its shards (F32, F16 or BF16). */
    public static Gpt2Model load(Path folder) {
        try (Gpt2Checkpoint checkpoint = Gpt2Checkpoint.open(folder)) {
            NDManager manager = newManager();
            try {
                return new Gpt2Model(checkpoint.config(), manager,
                        (name, shape) -> manager.create(checkpoint.floats(name), shape));
            } catch (RuntimeException e) {
                manager.close();
                throw e;
            }
        }
    }

    /** A GPT-2 of the given shape with random weights (GPT-2's initialisation, N(0, 0.02)), for benchmarks. */
    public static Gpt2Model random(Gpt2Config config, long seed) {
        NDManager manager = newManager();
        Engine.getEngine(ENGINE).setRandomSeed((int) seed);
        return new Gpt2Model(config, manager, (name, shape) -> {
            if (name.contains("ln_")) {
                return name.endsWith(".weight") ? manager.ones(shape) : manager.zeros(shape);
            }
            return manager.randomNormal(0f, 0.02f, shape, DataType.FLOAT32);
        });
    }

    private static NDManager newManager() {
        NDManager manager = NDManager.newBaseManager(Device.cpu(), ENGINE);
        // One intra-op thread per core; set -Dai.djl.pytorch.num_threads to override.
        if (System.getProperty("ai.djl.pytorch.num_threads") == null) {
            JniUtils.setNumThreads(Runtime.getRuntime().availableProcessors());
        }
        return manager;
    }

    /** A view [out, in] of a Conv1D weight [in, out], so that linear(x, w) = x @ conv1d_weight with no copy. */
    private static NDArray transposed(NDArray conv1dWeight) {
        return conv1dWeight.transpose(1, 0);
    }

    public Gpt2Config config() {
        return config;
    }

    @Override
    public int layers() {
        return config.layers();
    }

    @Override
    public int neuronsPerLayer() {
        return config.inner();
    }

    @Override
    public int contextLength() {
        return config.positions();
    }

    @Override
    public float[][] mlpActivations(int[][] windows, int[] layers) {
        return forward(windows, layers, false).mlp();
    }

    /**
     * Runs {@code windows} (equal lengths) through the model, capturing the MLP activations of
     * {@code layers}; with {@code finalHidden} it also runs every layer and ln_f.
     */
    public Outputs forward(int[][] windows, int[] layers, boolean finalHidden) {
        return forward(windows, layers, finalHidden, null);
    }

    /**
     * As {@link #mlpActivations(int[][], int[])}, but writes into {@code into[i]} (reused when it has
     * the right length, else replaced) so a caller running batch after batch allocates no new arrays:
     * fresh arrays of this size cost the JVM page faults and zeroing, 7% of the producer's time.
     */
    @Override
    public float[][] mlpActivations(int[][] windows, int[] layers, float[][] into) {
        return forward(windows, layers, false, into).mlp();
    }

    private Outputs forward(int[][] windows, int[] layers, boolean finalHidden, float[][] into) {
        int tokens = checkWindows(windows);
        int last = finalHidden ? config.layers() - 1 : -1;
        for (int layer : layers) {
            if (layer < 0 || layer >= config.layers()) {
                throw new IllegalArgumentException("layer " + layer + " is not in 0.." + (config.layers() - 1));
            }
            last = Math.max(last, layer);
        }
        int batch = windows.length;
        int d = config.embedding();
        int heads = config.heads();
        float[][] captured = new float[layers.length][];
        if (into != null && into.length != layers.length) {
            throw new IllegalArgumentException("need one output array per layer: " + layers.length + ", not " + into.length);
        }
        long[] ids = new long[batch * tokens];
        for (int w = 0; w < batch; w++) {
            for (int t = 0; t < tokens; t++) {
                ids[w * tokens + t] = windows[w][t];
            }
        }
        // Everything this pass allocates lives in the scope and is freed when it closes.
        try (NDManager scope = manager.newSubManager()) {
            NDArray idArray = scope.create(ids);
            NDArray mask = causalMask.get(new NDIndex("0:{}, 0:{}", tokens, tokens));
            mask.attach(scope);
            NDArray positions = positionEmbedding.get(new NDIndex("0:{}", tokens));
            positions.attach(scope);
            NDArray x = Embedding.embedding(idArray, tokenEmbedding, SparseFormat.DENSE).singletonOrThrow()
                    .reshape(batch, tokens, d);
            x.addi(positions);
            x = x.reshape(batch * tokens, d);
            for (int layer = 0; layer <= last; layer++) {
                Block b = blocks[layer];
                NDArray h = LayerNorm.layerNorm(x, new Shape(d), b.ln1Weight(), b.ln1Bias(), (float) config.layerNormEpsilon()).singletonOrThrow();
                NDArray qkv = Linear.linear(h, b.qkvWeight(), b.qkvBias()).singletonOrThrow();
                h.close();
                // [batch*tokens, 3d] -> [3, batch, heads, tokens, head size]
                NDArray split = qkv.reshape(batch, tokens, 3, heads, d / heads).transpose(2, 0, 3, 1, 4);
                NDArray q = split.get(0);
                NDArray kT = split.get(1).transpose(0, 1, 3, 2);
                NDArray v = split.get(2);
                NDArray scores = q.matMul(kT);
                scores.addi(mask);
                NDArray probs = scores.softmax(-1);
                NDArray context = probs.matMul(v).transpose(0, 2, 1, 3).reshape(batch * tokens, d);
                NDArray attention = Linear.linear(context, b.attnProjWeight(), b.attnProjBias()).singletonOrThrow();
                x.addi(attention);
                closeAll(qkv, split, q, kT, v, scores, probs, context, attention);
                NDArray h2 = LayerNorm.layerNorm(x, new Shape(d), b.ln2Weight(), b.ln2Bias(), (float) config.layerNormEpsilon()).singletonOrThrow();
                NDArray pre = Linear.linear(h2, b.fcWeight(), b.fcBias()).singletonOrThrow();
                h2.close();
                NDArray act = geluNew(pre);
                for (int i = 0; i < layers.length; i++) {
                    if (layers[i] == layer) {
                        captured[i] = copyOut(act, into == null ? null : into[i]);
                    }
                }
                // The last requested layer's MLP output only matters for the final hidden state.
                if (layer < last || finalHidden) {
                    NDArray mlp = Linear.linear(act, b.mlpProjWeight(), b.mlpProjBias()).singletonOrThrow();
                    x.addi(mlp);
                    mlp.close();
                }
                act.close();
            }
            float[] hidden = null;
            if (finalHidden) {
                hidden = LayerNorm.layerNorm(x, new Shape(d), finalNormWeight, finalNormBias, (float) config.layerNormEpsilon())
                        .singletonOrThrow().toFloatArray();
            }
            return new Outputs(captured, hidden);
        }
    }

    /** Copies a float32 tensor into {@code reuse} when it fits, else into a new array. */
    private static float[] copyOut(NDArray array, float[] reuse) {
        long size = array.size();
        float[] out = reuse != null && reuse.length == size ? reuse : new float[Math.toIntExact(size)];
        array.toByteBuffer(true).asFloatBuffer().get(out);
        return out;
    }

    /** gelu_new as x * sigmoid(x * (a + b x^2)): five passes over the data, most of them in place. */
    private static NDArray geluNew(NDArray x) {
        NDArray z = x.mul(x);
        z.muli(GELU_CUBIC).addi(GELU_LINEAR).muli(x);
        NDArray out = Activation.sigmoid(z);
        z.close();
        out.muli(x);
        x.close();
        return out;
    }

    private int checkWindows(int[][] windows) {
        if (windows.length == 0) {
            throw new IllegalArgumentException("no windows to run");
        }
        int tokens = windows[0].length;
        if (tokens == 0 || tokens > config.positions()) {
            throw new IllegalArgumentException("a window must hold 1.." + config.positions() + " tokens, not " + tokens);
        }
        for (int[] window : windows) {
            if (window.length != tokens) {
                throw new IllegalArgumentException("windows of one batch must have equal lengths: " + tokens + " and " + window.length);
            }
            for (int id : window) {
                if (id < 0 || id >= config.vocabSize()) {
                    throw new IllegalArgumentException("token id " + id + " is outside the vocabulary 0.." + (config.vocabSize() - 1));
                }
            }
        }
        return tokens;
    }

    private static void closeAll(NDArray... arrays) {
        for (NDArray a : arrays) {
            a.close();
        }
    }

    @Override
    public void close() {
        manager.close();
    }
}
