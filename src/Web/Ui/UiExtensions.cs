using Sft.Web.Components;

namespace Sft.Web.Ui;

public static class UiExtensions
{
    /// <summary>
    /// Blazor Server (interactive server components) and the services its pages read through. Static web assets
    /// (Blazor's framework script, Plotly.Blazor's files, the scoped CSS bundle) are read through the build's
    /// runtime manifest in every environment, not only Development: run from a build output (<c>dotnet run</c>, the
    /// tests' server process) they live in NuGet and obj folders; published, they are copied to wwwroot and the
    /// manifest is absent, so this does nothing.
    /// </summary>
    public static WebApplicationBuilder AddSftUi(this WebApplicationBuilder builder)
    {
        builder.WebHost.UseStaticWebAssets();
        var services = builder.Services;
        services.AddRazorComponents().AddInteractiveServerComponents();
        services.AddSingleton<JobQueries>();
        services.AddSingleton<ConfigCheck>();
        services.AddSingleton<Catalog>();
        services.AddSingleton<DatasetPreviews>();
        services.AddSingleton<PlaygroundChoices>();
        services.AddSingleton<PlaygroundModels>();
        return builder;
    }

    /// <summary>The dashboard pages and the framework's and Plotly.Blazor's static assets (all behind the login).</summary>
    public static WebApplication MapSftUi(this WebApplication app)
    {
        app.MapStaticAssets();
        app.MapRazorComponents<App>().AddInteractiveServerRenderMode();
        return app;
    }
}
