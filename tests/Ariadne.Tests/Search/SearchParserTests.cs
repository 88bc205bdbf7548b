using Ariadne.Analysis;
using Ariadne.Search;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;

namespace Ariadne.Tests.Search;

public sealed class SearchParserTests
{
    private static Comparison Cmp(Field field, CompareOp op, Literal value) => new(field, op, value);

    private static Field Attr(string key, AttributeScope scope = AttributeScope.Any) => new(FieldKind.Attribute, scope, key);

    private static Literal Str(string text) => new(LiteralKind.String, text);

    [Fact]
    public void Structural_query_with_numeric_comparison_and_status_parses_into_the_expected_tree()
    {
        var query = SearchParser.Parse("{ service = \"orders\" && http.status_code >= 500 } >> { service = \"payments\" && status = error }");
        var expected = new StructuralExpression(
            new SpanFilter(new AndCondition(
                Cmp(new Field(FieldKind.Service), CompareOp.Equal, Str("orders")),
                Cmp(Attr("http.status_code"), CompareOp.GreaterOrEqual, new Literal(LiteralKind.Integer, "500", 500)))),
            StructuralOp.Descendant,
            new SpanFilter(new AndCondition(
                Cmp(new Field(FieldKind.Service), CompareOp.Equal, Str("payments")),
                Cmp(new Field(FieldKind.Status), CompareOp.Equal, new Literal(LiteralKind.Keyword, "error")))));
        Assert.Equal(expected, query);
    }

    [Fact]
    public void Structure_binds_tighter_than_and_which_binds_tighter_than_or()
    {
        var query = SearchParser.Parse("{ a = \"1\" } || { b = \"2\" } && { c = \"3\" } > { d = \"4\" }");
        Assert.Equal("({ a = \"1\" } || ({ b = \"2\" } && ({ c = \"3\" } > { d = \"4\" })))", query.ToString());
        var inside = SearchParser.Parse("{ a = \"1\" || b = \"2\" && !c = \"3\" }");
        Assert.Equal("{ a = \"1\" || (b = \"2\" && !(c = \"3\")) }", inside.ToString());
    }

    [Fact]
    public void Scopes_durations_regexes_and_kinds_parse()
    {
        Assert.Equal(
            new SpanFilter(new AndCondition(
                new AndCondition(
                    Cmp(Attr("host.name", AttributeScope.Resource), CompareOp.Matches, Str("orders-\\d+")),
                    Cmp(new Field(FieldKind.Duration), CompareOp.Greater, new Literal(LiteralKind.Duration, "1.5s", Nanos: 1_500_000_000))),
                Cmp(new Field(FieldKind.Kind), CompareOp.NotEqual, new Literal(LiteralKind.Keyword, "client")))),
            SearchParser.Parse("{ resource.host.name =~ \"orders-\\d+\" && duration > 1.5s && kind != client }"));
        Assert.Equal(new SpanFilter(new AnySpan()), SearchParser.Parse("{}"));
        Assert.Equal(new SpanFilter(Cmp(Attr("x", AttributeScope.Span), CompareOp.Equal, new Literal(LiteralKind.Bool, "true", Bool: true))), SearchParser.Parse("{span.x=true}"));
        Assert.Equal(new SpanFilter(Cmp(Attr("name"), CompareOp.Less, new Literal(LiteralKind.Double, "0.5", 0.5))), SearchParser.Parse("{ .name < 0.5 }"));
    }

    [Theory]
    [InlineData("", 0, "empty")]
    [InlineData("{ service = orders }", 12, "quote text values: \"orders\"")]
    [InlineData("{ service = \"orders\" ", 21, "expected '&&', '||' or '}' to close the span filter, found the end of the query")]
    [InlineData("{ http.status_code >= \"500\" }", 22, ">= compares numbers")]
    [InlineData("{ http.status_code 500 }", 19, "expected an operator (=, !=, =~, !~, >, >=, <, <=) after 'http.status_code', found '500'")]
    [InlineData("{ x =~ \"(\" }", 7, "the regular expression does not parse")]
    [InlineData("{ status = broken }", 11, "status is error, ok or unset")]
    [InlineData("{ status > error }", 9, "status can be compared with = or !=")]
    [InlineData("{ duration > 5 }", 13, "duration takes a duration with a unit")]
    [InlineData("{ service = \"a\" } >", 19, "expected a span filter in braces")]
    [InlineData("{ service = \"a\" } { name = \"b\" }", 18, "expected '&&', '||', '>' or '>>' between span filters")]
    [InlineData("{ a ? 1 }", 4, "'?' is not part of the search language")]
    [InlineData("{ a = \"open }", 6, "the string is not closed")]
    [InlineData("service = \"orders\"", 0, "expected a span filter in braces")]
    public void Bad_queries_say_where_and_what_was_expected(string text, int position, string message)
    {
        var e = Assert.Throws<SearchSyntaxException>(() => SearchParser.Parse(text));
        Assert.Equal(position, e.Position);
        Assert.Contains(message, e.Message);
        Assert.StartsWith($"At {position}: ", e.Message);
    }

    [Property(Arbitrary = [typeof(QueryArbitraries)], MaxTest = 500)]
    public bool Printing_a_query_and_parsing_it_back_gives_the_same_query(SpansetExpression query) =>
        SearchParser.Parse(query.ToString()!).Equals(query);

    [Property(Arbitrary = [typeof(QueryArbitraries)], MaxTest = 1000)]
    public bool Any_token_soup_parses_or_fails_with_a_positioned_syntax_error(TokenSoup soup)
    {
        try
        {
            SearchParser.Parse(soup.Text);
            return true;
        }
        catch (SearchSyntaxException e)
        {
            return e.Position >= 0 && e.Position <= soup.Text.Length && e.Message.StartsWith($"At {e.Position}: ", StringComparison.Ordinal);
        }
    }

    public sealed record TokenSoup(string Text)
    {
        public override string ToString() => Text;
    }

    public static class QueryArbitraries
    {
        private static readonly string[] s_keys = ["http.status_code", "customer.tier", "payment.method", "db.system", "k8s.pod-name", "x", "service", "a/b:c"];
        private static readonly string[] s_strings = ["orders", "a.b", "5..", "x|y", "quote\"d", "back\\slash", "", "tab\there", "gold"];
        private static readonly string[] s_durations = ["100ms", "1.5s", "2m", "250us", "3h", "1h30m"];
        private static readonly string[] s_integers = ["500", "-3", "0", "9007199254740993"];
        private static readonly string[] s_doubles = ["0.5", "12.25", "-1.75", "1e3"];
        private static readonly CompareOp[] s_textOps = [CompareOp.Equal, CompareOp.NotEqual, CompareOp.Matches, CompareOp.NotMatches];
        private static readonly CompareOp[] s_numberOps = [CompareOp.Equal, CompareOp.NotEqual, CompareOp.Greater, CompareOp.GreaterOrEqual, CompareOp.Less, CompareOp.LessOrEqual];

        private static readonly string[] s_soup =
        [
            "{", "}", "(", ")", "&&", "||", "!", "=", "!=", "=~", "!~", ">", ">=", "<", "<=", ">>", "service", "status", "duration",
            "kind", "name", "error", "server", "http.status_code", "\"orders\"", "\"(\"", "500", "1.5s", "0.5", "true", " ", "\"", "?", "span.", "resource.x",
        ];

        public static Arbitrary<SpansetExpression> Expressions() => Arb.From(Gen.Sized(size => Spanset(Math.Min(size, 6))));

        public static Arbitrary<TokenSoup> Soups() =>
            Arb.From(Gen.ListOf(Gen.Elements(s_soup)).Select(tokens => new TokenSoup(string.Join(" ", tokens))));

        private static Gen<SpansetExpression> Spanset(int depth)
        {
            var filter = Condition(3).Select(c => (SpansetExpression)new SpanFilter(c));
            if (depth <= 0)
            {
                return filter;
            }

            var sub = Spanset(depth / 2);
            return Gen.Frequency(
            [
                (3, filter),
                (1, Zip3(sub, sub, Gen.Elements(StructuralOp.Child, StructuralOp.Descendant))
                    .Select(t => (SpansetExpression)new StructuralExpression(t.Item1, t.Item3, t.Item2))),
                (1, Zip3(sub, sub, Gen.Elements(true, false)).Select(t => (SpansetExpression)new SpansetLogical(t.Item1, t.Item3, t.Item2))),
            ]);
        }

        private static Gen<SpanCondition> Condition(int depth)
        {
            var leaf = Gen.Frequency([(10, Comparisons()), (1, Gen.Constant<SpanCondition>(new AnySpan()))]);
            if (depth <= 0)
            {
                return leaf;
            }

            var sub = Condition(depth - 1);
            return Gen.Frequency(
            [
                (3, leaf),
                (1, Gen.Zip(sub, sub).Select(t => (SpanCondition)new AndCondition(t.Item1, t.Item2))),
                (1, Gen.Zip(sub, sub).Select(t => (SpanCondition)new OrCondition(t.Item1, t.Item2))),
                (1, sub.Select(c => (SpanCondition)new NotCondition(c))),
            ]);
        }

        private static Gen<SpanCondition> Comparisons() => Gen.OneOf(
            Text(new Field(FieldKind.Service)),
            Text(new Field(FieldKind.Name)),
            Gen.Zip(Gen.Elements(CompareOp.Equal, CompareOp.NotEqual), Gen.Elements("error", "ok", "unset"))
                .Select(t => Make(new Field(FieldKind.Status), t.Item1, new Literal(LiteralKind.Keyword, t.Item2))),
            Gen.Zip(Gen.Elements(CompareOp.Equal, CompareOp.NotEqual), Gen.Elements("server", "client", "producer", "consumer", "internal"))
                .Select(t => Make(new Field(FieldKind.Kind), t.Item1, new Literal(LiteralKind.Keyword, t.Item2))),
            Gen.Zip(Gen.Elements(s_numberOps), Gen.Elements(s_durations))
                .Select(t => Make(new Field(FieldKind.Duration), t.Item1, Duration(t.Item2))),
            Zip3(AttributeField(), Gen.Elements(s_textOps), Gen.Elements(s_strings))
                .Select(t => Make(t.Item1, t.Item2, new Literal(LiteralKind.String, t.Item3))),
            Zip3(AttributeField(), Gen.Elements(s_numberOps), Gen.Elements(s_integers))
                .Select(t => Make(t.Item1, t.Item2, new Literal(LiteralKind.Integer, t.Item3, long.Parse(t.Item3, System.Globalization.CultureInfo.InvariantCulture)))),
            Zip3(AttributeField(), Gen.Elements(s_numberOps), Gen.Elements(s_doubles))
                .Select(t => Make(t.Item1, t.Item2, new Literal(LiteralKind.Double, t.Item3, double.Parse(t.Item3, System.Globalization.CultureInfo.InvariantCulture)))),
            Zip3(AttributeField(), Gen.Elements(CompareOp.Equal, CompareOp.NotEqual), Gen.Elements(true, false))
                .Select(t => Make(t.Item1, t.Item2, new Literal(LiteralKind.Bool, t.Item3 ? "true" : "false", Bool: t.Item3))));

        private static Gen<SpanCondition> Text(Field field) =>
            Gen.Zip(Gen.Elements(s_textOps), Gen.Elements(s_strings)).Select(t => Make(field, t.Item1, new Literal(LiteralKind.String, t.Item2)));

        private static Gen<Field> AttributeField() =>
            Gen.Zip(Gen.Elements(s_keys), Gen.Elements(AttributeScope.Any, AttributeScope.Span, AttributeScope.Resource))
                .Select(t => new Field(FieldKind.Attribute, t.Item2, t.Item1));

        private static Gen<(T1 Item1, T2 Item2, T3 Item3)> Zip3<T1, T2, T3>(Gen<T1> a, Gen<T2> b, Gen<T3> c) =>
            Gen.Zip(a, Gen.Zip(b, c), (x, yz) => (x, yz.Item1, yz.Item2));

        private static Literal Duration(string text)
        {
            DurationText.TryParse(text, out var value);
            return new Literal(LiteralKind.Duration, text, Nanos: value.Ticks * 100);
        }

        private static SpanCondition Make(Field field, CompareOp op, Literal value) => new Comparison(field, op, value);
    }
}
