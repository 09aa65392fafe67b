/** `cdk synth` / `cdk deploy`: settings from cdk.json context, cdk-nag AwsSolutions on every synth. */
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { DriftAuditorStack } from './drift-auditor-stack.ts';
import { auditorProps, SettingsError, settingsFromContext } from './settings.ts';

const app = new App();
try {
  const settings = settingsFromContext(app.node.getAllContext() as Record<string, unknown>);
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  new DriftAuditorStack(app, 'Driftwatch', {
    auditor: auditorProps(settings),
    // Environment-agnostic unless the user pins one: synth needs no credentials.
    ...(settings.account && settings.region
      ? { env: { account: settings.account, region: settings.region } }
      : {}),
  });
  app.synth();
} catch (error) {
  if (error instanceof SettingsError) {
    process.stderr.write(`${error.message}\n`);
    process.exit(2);
  }
  throw error;
}
