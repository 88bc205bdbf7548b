using Ariadne.Analysis;
using Ariadne.Search;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;

namespace Ariadne.Tests.Search;

public sealed class SearchParserTests
{
    private static BinaryOperation Cmp(FieldExpression field, Operator op, TraceQLValue value) => new(op, field, new Static(value));

    private static BinaryOperation And(FieldExpression left, FieldExpression right) => new(Operator.And, left, right);

    private static FieldReference Intrinsic(string name, Ariadne.Search.Intrinsic intrinsic) => new(FieldReference.IntrinsicScope(intrinsic), name, intrinsic);

    private static TraceQLValue Str(string text) => TraceQLValue.FromString(text);

    private static SpansetExpression Spansets(string text) => (SpansetExpression)Assert.Single(SearchParser.Parse(text).Pipeline.Elements);

    [Fact]
    public void Structural_query_with_numeric_comparison_and_status_parses_into_the_expected_tree()
    {
        var query = Spansets("{ resource.service.name = \"orders\" && span.http.status_code >= 500 } >> { service = \"payments\" && status = error }");
        var expected = new SpansetOperation(
            SpansetOperator.Descendant,
            new SpansetFilter(And(
                Cmp(FieldReference.OfResource("service.name"), Operator.Equal, Str("orders")),
                Cmp(FieldReference.OfSpan("http.status_code"), Operator.GreaterOrEqual, TraceQLValue.FromInt(500)))),
            new SpansetFilter(And(
                Cmp(FieldReference.OfResource("service.name"), Operator.Equal, Str("payments")),
                Cmp(Intrinsic("status", Ariadne.Search.Intrinsic.Status), Operator.Equal, TraceQLValue.FromStatus(Model.StatusCode.Error)))));
        Assert.Equal(expected, query);
    }

    // TraceQL gives && and || the same precedence, left to right (Tempo's expr.y: %left AND OR); Ariadne's language
    // before TraceQL bound && tighter.
    [Fact]
    public void Structure_binds_tighter_than_and_and_or_which_group_left_to_right()
    {
        var query = SearchParser.Parse("{ .a = \"1\" } || { .b = \"2\" } && { .c = \"3\" } > { .d = \"4\" }");
        Assert.Equal("(({ .a = \"1\" }) || ({ .b = \"2\" })) && (({ .c = \"3\" }) > ({ .d = \"4\" }))", query.ToString());
        var inside = SearchParser.Parse("{ .a = \"1\" || .b = \"2\" && !(.c = \"3\") }");
        Assert.Equal("{ ((.a = \"1\") || (.b = \"2\")) && !(.c = \"3\") }", inside.ToString());
        Assert.Equal("{ (.a * .b) + .c }", SearchParser.Parse("{ .a * .b + .c }").ToString());
        Assert.Equal("{ (.c - -(.a)) + .b }", SearchParser.Parse("{ .c - -.a + .b }").ToString());
    }

    [Fact]
    public void Scopes_durations_regexes_kinds_and_nil_parse()
    {
        Assert.Equal(
            new SpansetFilter(And(
                And(
                    new BinaryOperation(Operator.Regex, FieldReference.OfResource("host.name"), new Static(Str("orders-\\d+"))),
                    Cmp(Intrinsic("duration", Ariadne.Search.Intrinsic.Duration), Operator.Greater, TraceQLValue.FromDuration(1_500_000_000))),
                Cmp(Intrinsic("span:kind", Ariadne.Search.Intrinsic.Kind), Operator.NotEqual, TraceQLValue.FromKind(Model.SpanKind.Client)))),
            Spansets("{ resource.host.name =~ \"orders-\\d+\" && duration > 1.5s && span:kind != client }"));
        Assert.Equal(SpansetFilter.All, Spansets("{}"));
        Assert.Equal(new SpansetFilter(Cmp(FieldReference.OfSpan("x"), Operator.Equal, TraceQLValue.True)), Spansets("{span.x=true}"));
        Assert.Equal(new SpansetFilter(Cmp(FieldReference.Unscoped("name"), Operator.Less, TraceQLValue.FromFloat(0.5))), Spansets("{ .name < 0.5 }"));
        Assert.Equal(new SpansetFilter(new UnaryOperation(Operator.NotExists, new FieldReference(AttributeScope.Event, "exception.message"))), Spansets("{ event.exception.message = nil }"));
        Assert.Equal(new SpansetFilter(Cmp(new FieldReference(AttributeScope.Span, "attribute name with space"), Operator.Equal, Str("value"))),
            Spansets("{ span.\"attribute name with space\" = \"value\" }"));
        Assert.Equal(new SpansetFilter(Cmp(new FieldReference(AttributeScope.Span, "attribute.attribute name with space"), Operator.Equal, Str("value"))),
            Spansets("{ span.attribute.\"attribute name with space\" = \"value\" }"));
        Assert.Equal(new SpansetFilter(Cmp(new FieldReference(AttributeScope.Span, "a", Parent: true), Operator.Equal, TraceQLValue.FromInt(1))), Spansets("{ parent.span.a = 1 }"));
    }

    [Fact]
    public void Pipelines_and_metrics_parse_into_stages()
    {
        var pipeline = SearchParser.Parse("{ status = error } | by(resource.service.name) | count() > 1 | select(span.http.url, name)").Pipeline;
        Assert.Equal(4, pipeline.Elements.Count);
        Assert.Equal(new GroupBy(FieldReference.OfResource("service.name")), pipeline.Elements[1]);
        Assert.Equal(new ScalarFilter(Operator.Greater, new Aggregate(AggregateKind.Count, null), new ScalarStatic(TraceQLValue.FromInt(1))), pipeline.Elements[2]);

        var metrics = SearchParser.Parse("{ resource.service.name = \"api\" } | quantile_over_time(duration, .5, 0.9, 1) by (resource.service.name, span:name) | topk(3) with (sample=0.1)");
        Assert.NotNull(metrics.Metrics);
        var aggregate = metrics.Metrics.Aggregate;
        Assert.Equal(MetricsFunction.QuantileOverTime, aggregate.Function);
        Assert.Equal(Intrinsic("duration", Ariadne.Search.Intrinsic.Duration), aggregate.Field);
        Assert.Equal([0.5, 0.9, 1], aggregate.Quantiles);
        Assert.Equal([FieldReference.OfResource("service.name"), Intrinsic("span:name", Ariadne.Search.Intrinsic.Name)], aggregate.By);
        Assert.Equal([new MetricsTopK(true, 3)], metrics.Metrics.SecondStages);
        Assert.Equal(0.1, metrics.Hints["sample"].AsFloat);
        Assert.Equal(metrics, SearchParser.Parse(metrics.ToString()));

        var rate = SearchParser.Parse("{ } | rate() by (resource.service.name) > 2.5");
        Assert.Equal(MetricsFunction.Rate, rate.Metrics!.Aggregate.Function);
        Assert.Null(rate.Metrics.Aggregate.Field);
        Assert.Equal([new MetricsFilter(Operator.Greater, 2.5)], rate.Metrics.SecondStages);
    }

    [Theory]
    [InlineData("", 0, "empty")]
    [InlineData("{ service = orders }", 12, "quote text values: \"orders\"")]
    [InlineData("{ service = \"orders\" ", 21, "to close the span filter, found the end of the query")]
    [InlineData("{ span.http.status_code 500 }", 24, "to close the span filter, found '500'")]
    [InlineData("{ .x =~ \"(\" }", 8, "the regular expression does not parse")]
    [InlineData("{ status = broken }", 11, "status is error, ok or unset")]
    [InlineData("{ status > error }", 9, "status can be compared with = or !=")]
    [InlineData("{ duration > \"5\" }", 11, "a duration cannot be compared with a string; duration takes a duration with a unit")]
    [InlineData("{ .a = \"1\" } >", 14, "expected a span filter in braces")]
    [InlineData("{ .a = \"1\" } { name = \"b\" }", 13, "expected '&&', '||', a structural operator")]
    [InlineData("{ .a ? 1 }", 5, "'?' is not part of TraceQL")]
    [InlineData("{ .a = \"open }", 7, "the string is not closed")]
    [InlineData("service = \"orders\"", 0, "expected a span filter in braces")]
    [InlineData("{ .attribute == 4 }", 13, "'==' is not a TraceQL operator")]
    [InlineData("{ trace:status = error }", 2, "'trace:status' is not an intrinsic; the trace intrinsics are trace:id")]
    [InlineData("{ 1 + 1 }", 2, "the condition of a span filter is true or false")]
    [InlineData("{ span:status = nil }", 14, "span:status is never nil")]
    [InlineData("{ true } | count()", 18, "expected a comparison")]
    [InlineData("coalesce() | { true }", 0, "coalesce() merges the spansets")]
    [InlineData("{ } | topk(10)", 6, "topk() follows a metrics function")]
    [InlineData("{ } | avg_of_nothing()", 6, "unknown function 'avg_of_nothing': a stage is by(), select()")]
    [InlineData("({ } | rate()) / ({ } | count_over_time())", 7, "arithmetic between metrics queries")]
    [InlineData("{ !.name = \"x\" }", 9, "! applies only to what follows it: write the comparison in parentheses")]
    [InlineData("{ !name }", 2, "! negates a condition, and this is a string")]
    [InlineData("{ } | rate() | topk(0)", 20, "between 1 and")]
    [InlineData("{ } | quantile_over_time(duration, 2)", 35, "a quantile is a number between 0 and 1")]
    [InlineData("{ .a = 1 }\n  && { .b = }", 23, "(line 2, column 13): expected a field")]
    public void Bad_queries_say_where_and_what_was_expected(string text, int position, string message)
    {
        var e = Assert.Throws<SearchSyntaxException>(() => SearchParser.Parse(text));
        Assert.Equal(position, e.Position);
        Assert.Contains(message, e.Message);
        Assert.StartsWith($"At {position}", e.Message);
        Assert.True(e.Line >= 1 && e.Column >= 1);
    }

    [Property(Arbitrary = [typeof(QueryArbitraries)], MaxTest = 500)]
    public bool Printing_a_query_and_parsing_it_back_gives_the_same_query(SpansetExpression query)
    {
        var root = new RootExpression(new SpansetPipeline([query]), null, new Dictionary<string, TraceQLValue>());
        return SearchParser.Parse(root.ToString()).Equals(root);
    }

    [Property(Arbitrary = [typeof(QueryArbitraries)], MaxTest = 1000)]
    public bool Any_token_soup_parses_or_fails_with_a_positioned_syntax_error(TokenSoup soup)
    {
        try
        {
            SearchQuery.Parse(soup.Text);
            return true;
        }
        catch (SearchSyntaxException e)
        {
            return e.Position >= 0 && e.Position <= soup.Text.Length && e.Message.StartsWith($"At {e.Position}", StringComparison.Ordinal);
        }
    }

    public sealed record TokenSoup(string Text)
    {
        public override string ToString() => Text;
    }

    public static class QueryArbitraries
    {
        private static readonly string[] s_keys = ["http.status_code", "customer.tier", "payment.method", "db.system", "k8s.pod-name", "x", "service", "a/b:c", "with space"];
        private static readonly string[] s_strings = ["orders", "a.b", "5..", "x|y", "quote\"d", "back\\slash", "", "tab\there", "gold"];
        private static readonly string[] s_durations = ["100ms", "1.5s", "2m", "250us", "3h", "1h30m"];
        private static readonly long[] s_integers = [500, -3, 0, 9007199254740993];
        private static readonly double[] s_doubles = [0.5, 12.25, -1.75, 1e3];
        private static readonly Operator[] s_textOps = [Operator.Equal, Operator.NotEqual, Operator.Regex, Operator.NotRegex];
        private static readonly Operator[] s_numberOps = [Operator.Equal, Operator.NotEqual, Operator.Greater, Operator.GreaterOrEqual, Operator.Less, Operator.LessOrEqual];
        private static readonly SpansetOperator[] s_spansetOps = Enum.GetValues<SpansetOperator>();

        private static readonly string[] s_soup =
        [
            "{", "}", "(", ")", "&&", "||", "!", "=", "!=", "=~", "!~", ">", ">=", "<", "<=", ">>", "<<", "~", "!>", "&>>", "|", ",", "+", "-", "*",
            "service", "status", "duration", "kind", "name", "error", "server", "nil", "count()", "avg(duration)", "by", "select", "coalesce", "rate()",
            "quantile_over_time", "topk", "with", "span:name", "trace:duration", "event:name", "span.http.status_code", ".x", "resource.x", "parent.x",
            "\"orders\"", "\"(\"", "500", "1.5s", "0.5", ".5", "true", " ", "\"", "?", "span.", "event.", "http.status_code", "minInt", "\n",
        ];

        public static Arbitrary<SpansetExpression> Expressions() => Arb.From(Gen.Sized(size => Spanset(Math.Min(size, 6))));

        public static Arbitrary<TokenSoup> Soups() =>
            Arb.From(Gen.ListOf(Gen.Elements(s_soup)).Select(tokens => new TokenSoup(string.Join(" ", tokens))));

        private static Gen<SpansetExpression> Spanset(int depth)
        {
            var filter = Condition(3).Select(c => (SpansetExpression)new SpansetFilter(c));
            if (depth <= 0)
            {
                return filter;
            }

            var sub = Spanset(depth / 2);
            return Gen.Frequency(
            [
                (3, filter),
                (2, Zip3(sub, sub, Gen.Elements(s_spansetOps)).Select(t => (SpansetExpression)new SpansetOperation(t.Item3, t.Item1, t.Item2))),
            ]);
        }

        private static Gen<FieldExpression> Condition(int depth)
        {
            var leaf = Gen.Frequency([(10, Comparisons()), (1, Gen.Constant<FieldExpression>(new Static(TraceQLValue.True)))]);
            if (depth <= 0)
            {
                return leaf;
            }

            var sub = Condition(depth - 1);
            return Gen.Frequency(
            [
                (3, leaf),
                (1, Gen.Zip(sub, sub).Select(t => (FieldExpression)new BinaryOperation(Operator.And, t.Item1, t.Item2))),
                (1, Gen.Zip(sub, sub).Select(t => (FieldExpression)new BinaryOperation(Operator.Or, t.Item1, t.Item2))),
                (1, sub.Select(c => (FieldExpression)new UnaryOperation(Operator.Not, c))),
            ]);
        }

        private static Gen<FieldExpression> Comparisons() => Gen.OneOf(
            Text(FieldReference.Of(Ariadne.Search.Intrinsic.Name)),
            Text(new FieldReference(AttributeScope.Span, "name", Ariadne.Search.Intrinsic.Name)),
            Gen.Zip(Gen.Elements(Operator.Equal, Operator.NotEqual), Gen.Elements(Model.StatusCode.Error, Model.StatusCode.Ok, Model.StatusCode.Unset))
                .Select(t => Make(new FieldReference(AttributeScope.Span, "status", Ariadne.Search.Intrinsic.Status), t.Item1, TraceQLValue.FromStatus(t.Item2))),
            Gen.Zip(Gen.Elements(Operator.Equal, Operator.NotEqual), Gen.Elements(Enum.GetValues<Model.SpanKind>()))
                .Select(t => Make(new FieldReference(AttributeScope.Span, "kind", Ariadne.Search.Intrinsic.Kind), t.Item1, TraceQLValue.FromKind(t.Item2))),
            Gen.Zip(Gen.Elements(s_numberOps), Gen.Elements(s_durations))
                .Select(t => Make(FieldReference.Of(Ariadne.Search.Intrinsic.TraceDuration), t.Item1, Duration(t.Item2))),
            Zip3(AttributeField(), Gen.Elements(s_textOps), Gen.Elements(s_strings))
                .Select(t => Make(t.Item1, t.Item2, TraceQLValue.FromString(t.Item3))),
            Zip3(AttributeField(), Gen.Elements(s_numberOps), Gen.Elements(s_integers))
                .Select(t => Make(t.Item1, t.Item2, TraceQLValue.FromInt(t.Item3))),
            Zip3(AttributeField(), Gen.Elements(s_numberOps), Gen.Elements(s_doubles))
                .Select(t => Make(t.Item1, t.Item2, TraceQLValue.FromFloat(t.Item3))),
            Gen.Zip(AttributeField(), Gen.Elements(true, false))
                .Select(t => (FieldExpression)new UnaryOperation(t.Item2 ? Operator.Exists : Operator.NotExists, t.Item1)),
            Zip3(AttributeField(), Gen.Elements(Operator.Equal, Operator.NotEqual), Gen.Elements(true, false))
                .Select(t => Make(t.Item1, t.Item2, TraceQLValue.FromBool(t.Item3))));

        private static Gen<FieldExpression> Text(FieldReference field) =>
            Gen.Zip(Gen.Elements(s_textOps), Gen.Elements(s_strings)).Select(t => Make(field, t.Item1, TraceQLValue.FromString(t.Item2)));

        private static Gen<FieldReference> AttributeField() =>
            Gen.Zip(Gen.Elements(s_keys), Gen.Elements(AttributeScope.None, AttributeScope.Span, AttributeScope.Resource, AttributeScope.Event, AttributeScope.Link, AttributeScope.Instrumentation))
                .Select(t => new FieldReference(t.Item2, t.Item1));

        private static Gen<(T1 Item1, T2 Item2, T3 Item3)> Zip3<T1, T2, T3>(Gen<T1> a, Gen<T2> b, Gen<T3> c) =>
            Gen.Zip(a, Gen.Zip(b, c), (x, yz) => (x, yz.Item1, yz.Item2));

        private static TraceQLValue Duration(string text)
        {
            DurationText.TryParse(text, out var value);
            return TraceQLValue.FromDuration(value.Ticks * 100);
        }

        private static FieldExpression Make(FieldExpression field, Operator op, TraceQLValue value) => new BinaryOperation(op, field, new Static(value));
    }
}
