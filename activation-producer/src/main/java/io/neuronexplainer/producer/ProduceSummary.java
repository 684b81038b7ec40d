package io.neuronexplainer.producer;

/** What a producer run did: its identity, the pass's counts, records emitted, and wall time. */
public record ProduceSummary(RunIdentity run, PassResult pass, long neuronsEmitted, double seconds) {}
