// The ADR's instrumentation example (ADR-024 section 8.2) as written; the one change is the "log" import, which the
// ADR's snippet uses but does not import, so it would not compile. The test reaches the server through HTTP_PROXY,
// so the endpoint stays http://jaeger:14268/api/traces.
package main

import (
    "log"

    "go.opentelemetry.io/otel"
    "go.opentelemetry.io/otel/exporters/jaeger"
    "go.opentelemetry.io/otel/sdk/trace"
)

func initTracer() {
    // Create Jaeger exporter
    exp, err := jaeger.New(jaeger.WithCollectorEndpoint(jaeger.WithEndpoint("http://jaeger:14268/api/traces")))
    if err != nil {
        log.Fatal(err)
    }
    
    // Create trace provider
    tp := trace.NewTracerProvider(
        trace.WithBatcher(exp),
        trace.WithSampler(trace.AlwaysSample()),
    )
    
    // Set global trace provider
    otel.SetTracerProvider(tp)
}
