// Reads the mirrored records back with jsforce, a Salesforce client that is
// not ours, to show the local Salesforce speaks the documented REST API.
//
//   npm install --prefix /tmp/jsforce jsforce@1
//   NODE_PATH=/tmp/jsforce/node_modules node read_with_jsforce.js URL CLIENT_ID CLIENT_SECRET
//
// URL is the local Salesforce (e.g. http://127.0.0.1:PORT); the token comes
// from its client credentials flow. Prints one JSON line per object.
const jsforce = require('jsforce');

async function main() {
  const [url, clientId, clientSecret] = process.argv.slice(2);
  const form = new URLSearchParams({grant_type: 'client_credentials', client_id: clientId,
                                    client_secret: clientSecret});
  const token = await (await fetch(url + '/services/oauth2/token', {method: 'POST', body: form})).json();
  const conn = new jsforce.Connection({instanceUrl: token.instance_url,
                                       accessToken: token.access_token, version: '59.0'});
  const queries = {
    Contact: 'SELECT Id, Farm_Id__c, FirstName, LastName, Email, Subscription_Tier__c, ' +
             'Credit_Balance__c, Last_Video_Generation_Date__c FROM Contact',
    AI_Project__c: 'SELECT Id, Farm_Id__c, Name, User__r.Farm_Id__c, Status__c, ' +
                   'Duration_Minutes__c, Credits_Used__c FROM AI_Project__c',
    AI_Credit__c: 'SELECT Id, Farm_Id__c, Name, User__r.Farm_Id__c, Transaction_Type__c, ' +
                  'Amount__c, Balance_After__c FROM AI_Credit__c',
    YouTube_Integration__c: 'SELECT Id, Farm_Id__c, Project__r.Farm_Id__c, Upload_Status__c, ' +
                            'Video_ID__c FROM YouTube_Integration__c',
  };
  for (const [object, soql] of Object.entries(queries)) {
    const records = [];
    await new Promise((resolve, reject) => {
      conn.query(soql).on('record', r => records.push(r)).on('end', resolve)
          .on('error', reject).run({autoFetch: true, maxFetch: 1000000});
    });
    const describe = await conn.sobject(object).describe();
    console.log(JSON.stringify({object, count: records.length, fields: describe.fields.length,
                                sample: records[0] || null}));
  }
  console.log(JSON.stringify({apiUsage: conn.limitInfo.apiUsage}));
}

main().catch(e => { console.error(e.errorCode || '', e.message); process.exit(1); });
