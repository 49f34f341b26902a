using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace Shmipc.AspNetCore.Tests;

/// <summary>A logger provider that keeps every entry at <see cref="LogLevel.Error"/> or above, with its category and exception.</summary>
public sealed class ErrorLogCapture : ILoggerProvider
{
    private readonly ConcurrentQueue<string> _errors = new();

    /// <summary>The entries so far, one line each: level, category, message and exception.</summary>
    public IReadOnlyCollection<string> Errors => _errors.ToArray();

    public ILogger CreateLogger(string categoryName) => new Logger(categoryName, _errors);

    public void Dispose()
    {
    }

    private sealed class Logger(string category, ConcurrentQueue<string> errors) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Error;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (IsEnabled(logLevel))
            {
                errors.Enqueue($"{logLevel} {category}: {formatter(state, exception)} {exception}");
            }
        }
    }
}
