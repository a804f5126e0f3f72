/** Region used for every local server, client and ARN. */
export const LOCAL_REGION = 'us-east-1';

/** The account id the local servers (fauxqs, the event source) put in ARNs. */
export const LOCAL_ACCOUNT_ID = '000000000000';
