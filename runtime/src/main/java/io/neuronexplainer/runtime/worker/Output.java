package io.neuronexplainer.runtime.worker;

import org.apache.avro.specific.SpecificRecord;

/** One record a worker emits for a consumed record; written in the same transaction as its offset. */
public record Output(String topic, SpecificRecord key, SpecificRecord value) {}
