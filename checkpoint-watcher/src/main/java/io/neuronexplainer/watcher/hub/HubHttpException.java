package io.neuronexplainer.watcher.hub;

import java.io.IOException;
import java.net.URI;

/** A Hub request answered with an error status; the message names the URL, the status and the likely cause in one line. */
public class HubHttpException extends IOException {
    private final URI url;
    private final int status;

    public HubHttpException(URI url, int status) {
        super(describe(url, status));
        this.url = url;
        this.status = status;
    }

    public URI url() {
        return url;
    }

    public int status() {
        return status;
    }

    private static String describe(URI url, int status) {
        String cause = switch (status) {
            case 401 -> ": the token (HF_TOKEN) is missing or refused";
            case 403 -> ": the token (HF_TOKEN) is refused for this repository (gated or private?)";
            case 404 -> ": repository, revision or file not found";
            case 429 -> ": rate limited by the Hub";
            default -> status >= 500 ? ": the Hub failed, try again later" : "";
        };
        return "GET " + url + " answered HTTP " + status + cause;
    }
}
