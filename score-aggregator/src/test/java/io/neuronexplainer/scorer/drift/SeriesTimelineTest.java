package io.neuronexplainer.scorer.drift;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.neuronexplainer.scorer.drift.SeriesTimeline.Pair;
import io.neuronexplainer.scorer.drift.SeriesTimeline.Point;
import java.util.List;
import org.junit.jupiter.api.Test;

class SeriesTimelineTest {
    static final Point S300 = new Point("step-000300", 300);
    static final Point S1500 = new Point("step-001500", 1500);
    static final Point FINAL = new Point("final", 3000);

    @Test
    void inOrderArrivalsPairEachWithThePreviousOne() {
        assertEquals(List.of(), SeriesTimeline.place(List.of(), S300).computed());
        var change = SeriesTimeline.place(List.of(S300), S1500);
        assertEquals(List.of(new Pair(S300, S1500)), change.computed());
        assertEquals(List.of(), change.retracted());
    }

    @Test
    void aLateCheckpointIsPlacedByItsStepAndThePairAroundItIsRetracted() {
        var change = SeriesTimeline.place(List.of(FINAL, S300), S1500);
        assertEquals(List.of(new Pair(S300, S1500), new Pair(S1500, FINAL)), change.computed());
        assertEquals(List.of(new Pair(S300, FINAL)), change.retracted());
    }

    @Test
    void anEarlierCheckpointArrivingLastPairsWithTheFirstOne() {
        var change = SeriesTimeline.place(List.of(S1500, FINAL), S300);
        assertEquals(List.of(new Pair(S300, S1500)), change.computed());
        assertEquals(List.of(), change.retracted());
    }

    @Test
    void aCheckpointSeenAgainRecomputesItsPairsAndRetractsNothing() {
        var change = SeriesTimeline.place(List.of(S300, S1500, FINAL), S1500);
        assertEquals(List.of(new Pair(S300, S1500), new Pair(S1500, FINAL)), change.computed());
        assertEquals(List.of(), change.retracted());
    }
}
