package io.neuronexplainer.scorer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.neuronexplainer.runtime.KafkaClients;
import io.neuronexplainer.runtime.TopicSnapshot;
import io.neuronexplainer.runtime.test.TestKafka;
import io.neuronexplainer.schemas.ProducerRun;
import io.neuronexplainer.schemas.Identities;
import io.neuronexplainer.schemas.ActivationsKey;
import io.neuronexplainer.schemas.AvroSerializer;
import io.neuronexplainer.schemas.NeuronActivations;
import io.neuronexplainer.schemas.NeuronKey;
import io.neuronexplainer.schemas.NeuronScore;
import io.neuronexplainer.schemas.ScoreKey;
import io.neuronexplainer.schemas.Simulation;
import io.neuronexplainer.schemas.Topics;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AlterConfigOp;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.config.ConfigResource;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The log cleaner forced to compact at once (tiny segments, a dirty ratio near 0, no lag): every
 * distinct score of a neuron (two explanations, two simulator methods) stays on neuron-scores,
 * because it is keyed by score identity, while a copy of one identity is cleaned away; the
 * neuron's best score stays on neuron-best-scores.
 */
class ScorerCompactionTest {
    @TempDir
    Path temp;

    @Test
    void compactionKeepsEveryDistinctScore() throws Exception {
        try (TestKafka kafka = TestKafka.start(1, Map.of("log.cleaner.backoff.ms", "200",
                "log.cleaner.min.compaction.lag.ms", "0"))) {
            KafkaClients clients = kafka.clients();
            TopicIo.createTopics(clients, 1);
            try (Admin admin = Admin.create(clients.admin())) {
                List<AlterConfigOp> eager = List.of(
                        new AlterConfigOp(new ConfigEntry("segment.ms", "300"), AlterConfigOp.OpType.SET),
                        new AlterConfigOp(new ConfigEntry("min.cleanable.dirty.ratio", "0.001"), AlterConfigOp.OpType.SET),
                        new AlterConfigOp(new ConfigEntry("min.compaction.lag.ms", "0"), AlterConfigOp.OpType.SET));
                admin.incrementalAlterConfigs(Map.of(
                        new ConfigResource(ConfigResource.Type.TOPIC, Topics.NEURON_SCORES), eager,
                        new ConfigResource(ConfigResource.Type.TOPIC, Topics.NEURON_ACTIVATIONS), eager,
                        new ConfigResource(ConfigResource.Type.TOPIC, Topics.NEURON_BEST_SCORES), eager)).all().get();
            }
            NeuronActivations truth = ScorerStreamsTest.truth(3);
            NeuronKey key = truth.getNeuron();
            NeuronActivations secondRun = NeuronActivations.newBuilder(truth)
                    .setRun(ProducerRun.newBuilder(truth.getRun()).setRunId("run-2").setCorpus("other-corpus").build()).build();
            Simulation a = ScorerStreamsTest.simulation(truth, "expl-1", 2f);
            Simulation b = Simulation.newBuilder(a).setSimulatorMethod("one-at-a-time").build();
            Simulation c = ScorerStreamsTest.simulation(truth, "expl-2", 1f);
            try (Scorer scorer = Scorer.start(clients, ScorerSettings.defaults("compaction-scorer", temp.resolve("state"))
                    .withHttpPort(-1).withOverrides(Map.of("commit.interval.ms", 100)), new SimpleMeterRegistry())) {
                scorer.awaitRunning(Duration.ofSeconds(60));
                TopicIo.sendActivations(clients, truth);
                // A second run of the same checkpoint (other corpus settings): kept beside the first.
                TopicIo.sendActivations(clients, secondRun);
                for (Simulation s : List.of(a, b, c)) {
                    TopicIo.send(clients, Topics.NEURON_SIMULATIONS, key, s);
                }
                TopicIo.await("3 scores", Duration.ofSeconds(60), () -> scores(clients).size() >= 3);
            }
            List<ConsumerRecord<ScoreKey, NeuronScore>> before = scores(clients);
            Set<String> distinct = before.stream().map(r -> r.value().getScoreId()).collect(Collectors.toSet());
            assertEquals(3, distinct.size());

            // Copies of one score identity, then records of another neuron to roll the segments past them:
            // the cleaner keeps one copy (the active segment is never cleaned, hence the filler).
            ConsumerRecord<ScoreKey, NeuronScore> copied = before.get(0);
            NeuronKey other = NeuronKey.newBuilder(key).setNeuron(key.getNeuron() + 1).build();
            ScoreKey filler = new ScoreKey(other, "filler");
            try (KafkaProducer<SpecificRecord, SpecificRecord> producer = new KafkaProducer<>(clients.producer(null),
                    new AvroSerializer<>(clients.registry(), true), new AvroSerializer<>(clients.registry(), false))) {
                ActivationsKey firstRun = Identities.activationsKey(truth);
                NeuronActivations otherNeuron = NeuronActivations.newBuilder(truth).setNeuron(other).build();
                for (int i = 0; i < 10; i++) {
                    producer.send(new ProducerRecord<>(Topics.NEURON_SCORES, copied.key(), copied.value())).get();
                    producer.send(new ProducerRecord<>(Topics.NEURON_ACTIVATIONS, firstRun, truth)).get();
                }
                long deadline = System.nanoTime() + 90_000_000_000L;
                while (copies(clients, copied.key()) > 1 || activationCopies(clients, firstRun) > 1) {
                    assertTrue(System.nanoTime() < deadline, "the log cleaner did not compact the topics in 90 s");
                    producer.send(new ProducerRecord<>(Topics.NEURON_SCORES, filler,
                            NeuronScore.newBuilder(copied.value()).setNeuron(other).setScoreId("filler").build())).get();
                    producer.send(new ProducerRecord<>(Topics.NEURON_ACTIVATIONS, Identities.activationsKey(otherNeuron),
                            otherNeuron)).get();
                    Thread.sleep(300);
                }
            }
            Set<String> runs = activations(clients).stream().filter(r -> r.key().getNeuron().equals(key))
                    .map(r -> r.value().getRun().getRunId()).collect(Collectors.toSet());
            assertEquals(Set.of("run-1", "run-2"), runs, "both runs' activations of the neuron survive compaction");
            Set<String> after = scores(clients).stream().filter(r -> r.key().getNeuron().equals(key))
                    .map(r -> r.value().getScoreId()).collect(Collectors.toSet());
            assertEquals(distinct, after, "every distinct score survives compaction");
            List<NeuronScore> best = TopicSnapshot.read(clients, Topics.NEURON_BEST_SCORES, NeuronKey.class, NeuronScore.class)
                    .stream().map(ConsumerRecord::value).toList();
            assertTrue(!best.isEmpty() && best.stream().allMatch(s -> s.getNeuron().equals(key)), best.toString());
        }
    }

    static List<ConsumerRecord<ScoreKey, NeuronScore>> scores(KafkaClients clients) {
        return TopicSnapshot.read(clients, Topics.NEURON_SCORES, ScoreKey.class, NeuronScore.class);
    }

    static List<ConsumerRecord<ActivationsKey, NeuronActivations>> activations(KafkaClients clients) {
        return TopicSnapshot.read(clients, Topics.NEURON_ACTIVATIONS, ActivationsKey.class, NeuronActivations.class);
    }

    static long activationCopies(KafkaClients clients, ActivationsKey key) {
        return activations(clients).stream().filter(r -> r.key().equals(key)).count();
    }

    static long copies(KafkaClients clients, ScoreKey key) {
        return scores(clients).stream().filter(r -> r.key().equals(key)).count();
    }
}
