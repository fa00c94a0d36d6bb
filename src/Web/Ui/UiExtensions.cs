using Sft.Web.Components;

namespace Sft.Web.Ui;

public static class UiExtensions
{
    /// <summary>Blazor Server (interactive server components) and the services its pages read through.</summary>
    public static IServiceCollection AddSftUi(this IServiceCollection services)
    {
        services.AddRazorComponents().AddInteractiveServerComponents();
        services.AddSingleton<JobQueries>();
        services.AddSingleton<ConfigCheck>();
        services.AddSingleton<Catalog>();
        return services;
    }

    /// <summary>The dashboard pages and the framework's and Plotly.Blazor's static assets (all behind the login).</summary>
    public static WebApplication MapSftUi(this WebApplication app)
    {
        app.MapStaticAssets();
        app.MapRazorComponents<App>().AddInteractiveServerRenderMode();
        return app;
    }
}
