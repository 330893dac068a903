
import{Pa as a,Qa as b,Ra as c,Sa as d,Ta as e,Ua as f,Va as g,Wa as h,Xa as i,Ya as j,Za as k}from"./chunk-F5WAQNDY.js";import"./chunk-IADTNH7X.js";import"./chunk-MUJP27IL.js";export{i as assertCertificate,k as awaitServerVerdict,b as caBundle,h as certLine,f as handshake,a as loadCaPath,e as minVersionFailure,g as peerCertInfo,d as secureOptions,j as verificationFailure,c as warmTrust};
