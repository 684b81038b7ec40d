package io.neuronexplainer.bench.producer;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;

/**
 * Measures the engine's fp32 matrix-multiply peak on this machine: the best FLOP/s of large
 * square matmuls through DJL on PyTorch, the yardstick of the producer's model FLOPs utilisation.
 */
public final class GemmPeak {
    private GemmPeak() {}

    /** Best GFLOP/s over {@code repeats} products of each size (2 n^3 FLOPs each), after one warm-up. */
    public static double measureGflops(int[] sizes, int repeats) {
        double best = 0;
        try (NDManager manager = NDManager.newBaseManager(Device.cpu(), "PyTorch")) {
            for (int n : sizes) {
                NDArray a = manager.randomNormal(0f, 1f, new Shape(n, n), DataType.FLOAT32);
                NDArray b = manager.randomNormal(0f, 1f, new Shape(n, n), DataType.FLOAT32);
                a.matMul(b).close();
                for (int r = 0; r < repeats; r++) {
                    long start = System.nanoTime();
                    NDArray c = a.matMul(b);
                    long nanos = System.nanoTime() - start;
                    c.close();
                    best = Math.max(best, 2.0 * n * n * n / nanos);
                }
                a.close();
                b.close();
            }
        }
        return best;
    }
}
