// Package crm is Rapport's domain: customers, contacts, interactions, grades
// and evaluations, the rules that govern them, and the storage contract the
// adapters implement. It imports no AWS or GraphQL package; dynamo/ persists
// what it decides, resolvers/ translate GraphQL to its calls.
package crm
