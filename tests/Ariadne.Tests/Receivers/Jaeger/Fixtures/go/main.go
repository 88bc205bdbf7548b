// Drives the ADR's example: one two-span trace through the tracer provider initTracer sets up (Thrift over HTTP), or
// with "agent HOST PORT" through the same exporter's agent endpoint (Thrift compact over UDP). Prints the trace id.
package main

import (
	"context"
	"fmt"
	"log"
	"os"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/exporters/jaeger"
	"go.opentelemetry.io/otel/sdk/resource"
	"go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/semconv/v1.4.0"
	oteltrace "go.opentelemetry.io/otel/trace"
)

func initAgentTracer(host, port, service string) {
	exp, err := jaeger.New(jaeger.WithAgentEndpoint(jaeger.WithAgentHost(host), jaeger.WithAgentPort(port)))
	if err != nil {
		log.Fatal(err)
	}
	otel.SetTracerProvider(trace.NewTracerProvider(
		trace.WithSyncer(exp),
		trace.WithResource(resource.NewWithAttributes(semconv.SchemaURL, semconv.ServiceNameKey.String(service))),
	))
}

func main() {
	// An export that fails must fail the run, not only print a line.
	otel.SetErrorHandler(otel.ErrorHandlerFunc(func(err error) { log.Fatal(err) }))
	if len(os.Args) > 4 && os.Args[1] == "agent" {
		initAgentTracer(os.Args[2], os.Args[3], os.Args[4])
	} else {
		initTracer()
	}

	ctx := context.Background()
	tracer := otel.Tracer("ariadne-go-test")
	ctx, parent := tracer.Start(ctx, "GET /checkout", oteltrace.WithSpanKind(oteltrace.SpanKindServer))
	_, child := tracer.Start(ctx, "charge card", oteltrace.WithSpanKind(oteltrace.SpanKindClient))
	child.SetAttributes(attribute.Float64("order.value", 99.5), attribute.Int64("retry.count", 3), attribute.Bool("cache.hit", false), attribute.String("order.id", "o-42"))
	child.AddEvent("payment declined", oteltrace.WithAttributes(attribute.String("decline.code", "insufficient_funds")))
	child.SetStatus(codes.Error, "card declined")
	child.End()
	parent.End()

	if err := otel.GetTracerProvider().(*trace.TracerProvider).Shutdown(ctx); err != nil {
		log.Fatal(err)
	}
	fmt.Println("TRACE " + parent.SpanContext().TraceID().String())
}
