/** The alert-state table as the stack creates it (pk/sk strings, on demand), and fingerprints for it. */
import { createHash } from 'node:crypto';
import { CreateTableCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';

export async function createStateTable(ddb: DynamoDBClient, tableName: string): Promise<void> {
  await ddb.send(
    new CreateTableCommand({
      TableName: tableName,
      AttributeDefinitions: [
        { AttributeName: 'pk', AttributeType: 'S' },
        { AttributeName: 'sk', AttributeType: 'S' },
      ],
      KeySchema: [
        { AttributeName: 'pk', KeyType: 'HASH' },
        { AttributeName: 'sk', KeyType: 'RANGE' },
      ],
      BillingMode: 'PAY_PER_REQUEST',
    }),
  );
}

/** `n` distinct 64-hex fingerprints, sorted, as decide.ts makes them. */
export function fingerprints(n: number, salt = ''): string[] {
  return Array.from({ length: n }, (_, i) =>
    createHash('sha256').update(`${salt}finding-${i}`).digest('hex'),
  ).sort();
}
