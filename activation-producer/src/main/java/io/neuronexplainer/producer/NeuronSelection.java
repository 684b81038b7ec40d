package io.neuronexplainer.producer;

import java.util.ArrayList;
import java.util.List;
import java.util.TreeMap;

/**
 * A subset of neurons to emit, written like {@code 0:0-99} (layer 0, neurons 0..99),
 * {@code 0:0-9,5:100-199}, {@code 3:7} or {@code 2} (all of layer 2).
 */
public final class NeuronSelection {
    /** Per layer, the inclusive neuron ranges; an empty list means the whole layer. */
    private final TreeMap<Integer, List<int[]>> ranges;
    private final String spec;

    private NeuronSelection(TreeMap<Integer, List<int[]>> ranges, String spec) {
        this.ranges = ranges;
        this.spec = spec;
    }

    public static NeuronSelection parse(String spec) {
        TreeMap<Integer, List<int[]>> ranges = new TreeMap<>();
        if (spec == null || spec.isBlank()) {
            throw new IllegalArgumentException("--neurons is empty; expected e.g. 0:0-99");
        }
        for (String part : spec.split(",")) {
            String item = part.trim();
            try {
                int colon = item.indexOf(':');
                int layer = Integer.parseInt(colon < 0 ? item : item.substring(0, colon));
                if (layer < 0) {
                    throw new NumberFormatException();
                }
                List<int[]> layerRanges = ranges.computeIfAbsent(layer, l -> new ArrayList<>());
                if (colon < 0) {
                    layerRanges.clear();
                    layerRanges.add(null); // the whole layer
                    continue;
                }
                String range = item.substring(colon + 1);
                int dash = range.indexOf('-');
                int from = Integer.parseInt(dash < 0 ? range : range.substring(0, dash));
                int to = dash < 0 ? from : Integer.parseInt(range.substring(dash + 1));
                if (from < 0 || to < from) {
                    throw new NumberFormatException();
                }
                if (!layerRanges.contains(null)) {
                    layerRanges.add(new int[] {from, to});
                }
            } catch (NumberFormatException | StringIndexOutOfBoundsException e) {
                throw new IllegalArgumentException("--neurons: cannot read '" + item
                        + "'; expected LAYER, LAYER:N or LAYER:FROM-TO, comma-separated (e.g. 0:0-99,3:5)");
            }
        }
        return new NeuronSelection(ranges, spec);
    }

    /** The layers to run: those of {@code selection}, or every layer of the model when it is null. */
    public static int[] layersToRun(NeuronSelection selection, int modelLayers) {
        if (selection != null) {
            return selection.layers(modelLayers);
        }
        int[] all = new int[modelLayers];
        for (int i = 0; i < modelLayers; i++) {
            all[i] = i;
        }
        return all;
    }

    /** The layers that hold selected neurons, checked against the model's layer count. */
    public int[] layers(int modelLayers) {
        if (ranges.lastKey() >= modelLayers) {
            throw new IllegalArgumentException("--neurons " + spec + ": the model has layers 0.." + (modelLayers - 1));
        }
        return ranges.keySet().stream().mapToInt(Integer::intValue).toArray();
    }

    public boolean includes(int layer, int neuron) {
        List<int[]> layerRanges = ranges.get(layer);
        if (layerRanges == null) {
            return false;
        }
        for (int[] r : layerRanges) {
            if (r == null || (neuron >= r[0] && neuron <= r[1])) {
                return true;
            }
        }
        return false;
    }

    /** How many neurons are selected in a model with {@code neuronsPerLayer} neurons per layer. */
    public long count(int neuronsPerLayer) {
        long n = 0;
        for (var layer : ranges.entrySet()) {
            for (int neuron = 0; neuron < neuronsPerLayer; neuron++) {
                if (includes(layer.getKey(), neuron)) {
                    n++;
                }
            }
        }
        return n;
    }

    @Override
    public String toString() {
        return spec;
    }
}
