using System.Text.Json.Serialization;

namespace Shmipc.Examples.RxPipeline;

/// <summary>An order the parent process publishes.</summary>
public sealed record Order(int Id, string Symbol, int Quantity, decimal Price);

/// <summary>Running totals the worker sends back after each batch of orders.</summary>
public sealed record Totals(int Batch, int Orders, long Quantity, decimal Notional)
{
    public decimal AveragePrice => Quantity == 0 ? 0 : Math.Round(Notional / Quantity, 4);

    public Totals Add(IList<Order> batch) =>
        new(Batch + 1, Orders + batch.Count, Quantity + batch.Sum(o => o.Quantity), Notional + batch.Sum(o => o.Quantity * o.Price));
}

/// <summary>Source-generated JSON metadata: no reflection at run time.</summary>
[JsonSerializable(typeof(Order))]
[JsonSerializable(typeof(Totals))]
public sealed partial class ExampleJson : JsonSerializerContext;
