package io.neuronexplainer.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.neuronexplainer.runtime.test.SampleRecords;
import io.neuronexplainer.runtime.test.TestKafka;
import io.neuronexplainer.schemas.ActivationsKey;
import io.neuronexplainer.schemas.AvroSerializer;
import io.neuronexplainer.schemas.NeuronKey;
import io.neuronexplainer.schemas.Topics;
import java.util.HashSet;
import java.util.Set;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.Test;

/**
 * Activations keyed by neuron and run land on their neuron's simulations' partition, sent typed
 * or as encoded bytes (redrive), so the scorer joins them without a repartition.
 */
class NeuronPartitionerTest {
    @Test
    void everyRunOfANeuronGoesToItsSimulationsPartition() throws Exception {
        try (TestKafka kafka = TestKafka.start(1)) {
            KafkaClients clients = kafka.clients();
            try (Admin admin = Admin.create(clients.admin())) {
                Topics.create(admin, 6, (short) 1, 30_000);
            }
            var keys = new AvroSerializer<ActivationsKey>(clients.registry(), true);
            Set<Integer> runPartitionsDiffer = new HashSet<>();
            try (var typed = new KafkaProducer<SpecificRecord, SpecificRecord>(clients.producer(null),
                    new AvroSerializer<>(clients.registry(), true), new AvroSerializer<>(clients.registry(), false));
                 var raw = new KafkaProducer<>(clients.producer(null), new ByteArraySerializer(), new ByteArraySerializer())) {
                for (int n = 0; n < 40; n++) {
                    NeuronKey neuron = SampleRecords.key(n % 6, n);
                    int simulations = typed.send(new ProducerRecord<>(Topics.NEURON_SIMULATIONS, neuron,
                            SampleRecords.simulation(neuron))).get().partition();
                    for (String run : new String[] {"run-a", "run-b", "run-c"}) {
                        ActivationsKey key = new ActivationsKey(neuron, run);
                        var value = SampleRecords.activations(neuron);
                        assertEquals(simulations, typed.send(new ProducerRecord<>(Topics.NEURON_ACTIVATIONS, key, value))
                                .get().partition(), "typed " + key);
                        byte[] keyBytes = keys.serialize(Topics.NEURON_ACTIVATIONS, key);
                        assertEquals(simulations, raw.send(new ProducerRecord<>(Topics.NEURON_ACTIVATIONS, keyBytes,
                                new byte[] {1})).get().partition(), "as bytes " + key);
                        // Kafka's own rule on the whole key would often place the runs elsewhere.
                        if (io.neuronexplainer.schemas.NeuronPartitioner.of(keyBytes, 6) != simulations) {
                            runPartitionsDiffer.add(n);
                        }
                    }
                }
                byte[] undecodable = "not a key".getBytes();
                int placed = raw.send(new ProducerRecord<>(Topics.NEURON_ACTIVATIONS, undecodable, undecodable)).get().partition();
                assertEquals(io.neuronexplainer.schemas.NeuronPartitioner.of(undecodable, 6), placed,
                        "an undecodable key is placed by the default rule, for its readers to dead-letter");
            }
            assertTrue(runPartitionsDiffer.size() > 10, "the test would pass without the partitioner: " + runPartitionsDiffer);
        }
    }
}
