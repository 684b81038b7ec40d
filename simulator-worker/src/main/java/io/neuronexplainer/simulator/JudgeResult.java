package io.neuronexplainer.simulator;

import io.neuronexplainer.schemas.Judgement;
import java.util.List;

/**
 * A judge's answers: one Judgement per request excerpt, in the request's order, each echoing
 * the excerpt's window_index and marked positions; and the LLM tokens they took.
 */
public record JudgeResult(List<Judgement> judgements, int promptTokens, int completionTokens) {}
