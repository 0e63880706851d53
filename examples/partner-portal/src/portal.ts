// The backend of a partner portal: it lists the customers Rapport shares
// with the partner's organization, masked as the organization's policy
// says, and opens the history of one of them.
//
//   RAPPORT_URL=http://localhost:8080 RAPPORT_API_KEY=rpk_… npm start
import { graphql } from './gql/index.js';
import { partnerClient, RapportError } from './rapport.js';

const SharedCustomers = graphql(`
  query SharedCustomers($first: Int!, $after: String) {
    me {
      id
      roles
      partnerId
    }
    customers(first: $first, after: $after) {
      totalCount
      edges {
        node {
          id
          name
          kind
          stage
          phones
          emails
          grade {
            level {
              code
              label
              responseSlaHours
            }
          }
          latestInteraction {
            channel
            subject
            occurredAt
          }
        }
      }
      pageInfo {
        hasNextPage
        endCursor
      }
    }
  }
`);

const CustomerHistory = graphql(`
  query CustomerHistory($id: ID!) {
    customer360(id: $id, recentInteractions: 5) {
      customer {
        name
        satisfactionIndex
        openCases {
          type
          subject
          status
          dueAt
        }
      }
      contacts {
        name
        title
        phones
      }
      recentInteractions {
        channel
        type
        subject
        content
        occurredAt
      }
    }
  }
`);

async function main(): Promise<void> {
  const apiKey = process.env.RAPPORT_API_KEY;
  if (!apiKey) {
    throw new Error('set RAPPORT_API_KEY (for the local demo partner: RAPPORT_API_KEY=$(make -s -C ../.. partner-key))');
  }
  const rapport = partnerClient(process.env.RAPPORT_URL ?? 'http://localhost:8080', apiKey);

  type Customer = NonNullable<Awaited<ReturnType<typeof listPage>>['customers']['edges'][number]['node']>;
  const listPage = (after?: string) => rapport.request(SharedCustomers, { first: 50, after });
  const customers: Customer[] = [];
  let page = await listPage();
  console.log(`Signed in as ${page.me.id} (${page.me.roles.join(', ')}) of partner organization ${page.me.partnerId}`);
  const total = page.customers.totalCount;
  for (;;) {
    customers.push(...page.customers.edges.map((e) => e.node));
    const { hasNextPage, endCursor } = page.customers.pageInfo;
    if (!hasNextPage || !endCursor) break;
    page = await listPage(endCursor);
  }
  console.log(`${customers.length} shared customers (totalCount ${total ?? 'not counted'})`);
  for (const c of customers) {
    const latest = c.latestInteraction ? `${c.latestInteraction.occurredAt.slice(0, 10)} ${c.latestInteraction.channel} ${c.latestInteraction.subject ?? ''}` : 'no contact yet';
    console.log(`  ${c.grade.level.code}  ${c.name.padEnd(36)} ${(c.phones[0] ?? '').padEnd(16)} ${latest}`);
  }

  const first = customers[0];
  if (!first) return;
  const { customer360: h } = await rapport.request(CustomerHistory, { id: first.id });
  console.log(`History of ${h.customer.name}: ${h.contacts.length} contacts, ${h.recentInteractions.length} recent interactions, ${h.customer.openCases.length} open cases`);
  for (const i of h.recentInteractions) {
    console.log(`  ${i.occurredAt.slice(0, 10)} ${i.channel} ${i.type} ${i.subject ?? ''}: ${i.content ?? ''}`);
  }
  console.log(`Persisted queries: ${rapport.persisted.hits} by hash alone, ${rapport.persisted.registered} sent with their query`);
}

main().catch((err: unknown) => {
  console.error(err instanceof RapportError ? `Rapport refused: ${err.message} (HTTP ${err.status})` : err);
  process.exit(1);
});
